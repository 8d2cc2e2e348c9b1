// Vite config of the dashboard. `npm run build:dashboard` builds into dashboard/dist (served by Omnia at /);
// `npx vite dashboard` runs a dev server that proxies /api to an Omnia on localhost:3000 (PORT to change it).
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Sizes are reported by build.mjs (gzip of every chunk); skip Vite's own pass.
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/api': `http://localhost:${process.env.PORT ?? 3000}` } },
});
