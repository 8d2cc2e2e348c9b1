// A small progress display on stderr: a redrawn bar when stderr is a terminal, otherwise a plain line every few
// seconds (logs and CI stay readable). Nothing is shown for steps that finish quickly.

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force the bar on or off (default: on when the stream is a TTY). */
  tty?: boolean;
  /** Seconds between plain lines when not a TTY. */
  lineEvery?: number;
  /** No output at all. */
  silent?: boolean;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export class Progress {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly lineEveryMs: number;
  private label = '';
  private total = 0;
  private unit = 'rows';
  private started = 0;
  private lastDraw = 0;
  private lastLine = 0;
  private drawn = false;
  private fraction = 0;
  private count = 0;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.silent = opts.silent ?? false;
    this.lineEveryMs = (opts.lineEvery ?? 5) * 1000;
  }

  /**
   * Starts a step. `total` is what `update`'s `done` counts up to (bytes of the input file, events to attribute…);
   * `unit` names what `count` counts (shown with a rate).
   */
  start(label: string, total: number, unit = 'rows'): void {
    this.finishLine();
    this.label = label;
    this.total = total;
    this.unit = unit;
    this.started = this.lastLine = Date.now();
    this.fraction = 0;
    this.count = 0;
  }

  update(done: number, count: number): void {
    this.fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    this.count = count;
    if (this.silent) return;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw < 100 || now - this.started < 300) return;
      this.lastDraw = now;
      this.draw(now);
    } else if (now - this.lastLine >= this.lineEveryMs) {
      this.lastLine = now;
      this.stream.write(`${this.label}: ${this.describe(now)}\n`);
    }
  }

  /** Ends the step (clears the bar). */
  end(): void {
    this.finishLine();
  }

  private describe(now: number): string {
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? this.count / secs : 0;
    const pct = `${Math.floor(this.fraction * 100)}%`;
    const eta = this.fraction > 0.02 && this.fraction < 1 ? ` · ~${Math.ceil((secs / this.fraction) * (1 - this.fraction))}s left` : '';
    return `${pct} · ${fmt(this.count)} ${this.unit} · ${fmt(rate)} ${this.unit}/s${eta}`;
  }

  private draw(now: number): void {
    const cols = Math.min(this.stream.columns || 80, 120);
    const text = ` ${this.describe(now)}`;
    // The bar's width depends only on the terminal, so it does not jitter as the numbers change length.
    const width = Math.min(40, cols - this.label.length - 52);
    let bar = '';
    if (width >= 10) {
      const full = Math.round(this.fraction * width);
      bar = ` ${'█'.repeat(full)}${'░'.repeat(width - full)}`;
    }
    this.stream.write(`\r\x1b[2K${`${this.label}${bar}${text}`.slice(0, cols - 1)}`);
    this.drawn = true;
  }

  private finishLine(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
