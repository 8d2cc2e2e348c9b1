import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files share one PostgreSQL server; each creates its own schema, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
