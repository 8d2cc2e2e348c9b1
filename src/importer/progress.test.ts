import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress } from './progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    }),
    { isTTY, columns: 80 },
  );
  return { stream, text: () => chunks.join('') };
}

describe('progress display', () => {
  afterEach(() => vi.useRealTimers());

  it('redraws a bar on a terminal and clears it at the end', () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink(true);
    const p = new Progress({ stream: s.stream });
    p.start('import orders', 1000);
    vi.setSystemTime(1000);
    p.update(500, 20_000);
    expect(s.text()).toMatch(/\r\x1b\[2Kimport orders █+░+ 50% · 20,000 rows · 20,000 rows\/s · ~1s left/);
    p.end();
    expect(s.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('writes a plain line every few seconds when not a terminal', () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink(false);
    const p = new Progress({ stream: s.stream, lineEvery: 5 });
    p.start('profiles', 100, 'events');
    vi.setSystemTime(1000);
    p.update(10, 10);
    expect(s.text()).toBe('');
    vi.setSystemTime(6000);
    p.update(60, 60);
    expect(s.text()).toBe('profiles: 60% · 60 events · 10 events/s · ~4s left\n');
    p.end();
    expect(s.text()).not.toMatch(/\x1b/);
  });
});
