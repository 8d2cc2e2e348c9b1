// RFC 4180 CSV, streaming. The parser is an incremental state machine: feed it text in chunks of any size (a record,
// a quoted field or a CRLF may straddle two chunks) and it hands back every record completed so far, each with the
// line it started on. Quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF, LF or a lone
// CR; blank lines are skipped. No dependencies: files are read with node:fs, .gz/.br through node:zlib.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

const enum S {
  /** At the start of a field (after a comma, or at the start of a record). */
  Start,
  Unquoted,
  Quoted,
  /** Inside a quoted field, just after a quote: either the closing quote or the first of a doubled one. */
  QuoteInQuoted,
}

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Records completed by one push: `rows[i]` started on physical line `lines[i]` (1-based). */
export interface CsvBatch {
  rows: string[][];
  lines: number[];
}

export class CsvParser {
  private state = S.Start;
  private row: string[] = [];
  private field = '';
  private skipLf = false;
  private quotedCr = false;
  private line = 1;
  private recordLine = 1;

  /** Parses one chunk; returns the records it completed. */
  push(chunk: string): CsvBatch {
    const out: CsvBatch = { rows: [], lines: [] };
    const n = chunk.length;
    let state = this.state;
    let seg = 0; // start of the current field's text within this chunk
    let i = 0;
    if (this.skipLf && n > 0) {
      this.skipLf = false;
      if (chunk.charCodeAt(0) === LF) i = seg = 1;
    }
    for (; i < n; i++) {
      const c = chunk.charCodeAt(i);
      switch (state) {
        case S.Start:
          if (c === QUOTE) {
            state = S.Quoted;
            this.quotedCr = false;
            seg = i + 1;
          } else if (c === COMMA) {
            this.row.push('');
          } else if (c === LF || c === CR) {
            if (this.row.length > 0) {
              this.row.push('');
              this.emit(out);
            } // else a blank line: no record
            i = this.newline(chunk, i, c);
            seg = i + 1;
          } else {
            state = S.Unquoted;
            seg = i;
          }
          break;
        case S.Unquoted:
          if (c === COMMA) {
            this.row.push(this.field + chunk.slice(seg, i));
            this.field = '';
            state = S.Start;
          } else if (c === LF || c === CR) {
            this.row.push(this.field + chunk.slice(seg, i));
            this.field = '';
            this.emit(out);
            i = this.newline(chunk, i, c);
            seg = i + 1;
            state = S.Start;
          }
          break;
        case S.Quoted:
          if (c === QUOTE) {
            this.field += chunk.slice(seg, i);
            this.quotedCr = false;
            state = S.QuoteInQuoted;
          } else if (c === CR) {
            this.line++;
            this.quotedCr = true;
          } else if (c === LF) {
            if (!this.quotedCr) this.line++;
            this.quotedCr = false;
          } else this.quotedCr = false;
          break;
        case S.QuoteInQuoted:
          if (c === QUOTE) {
            // A doubled quote: one literal quote, and the field goes on.
            this.field += '"';
            seg = i + 1;
            state = S.Quoted;
          } else if (c === COMMA) {
            this.row.push(this.field);
            this.field = '';
            state = S.Start;
          } else if (c === LF || c === CR) {
            this.row.push(this.field);
            this.field = '';
            this.emit(out);
            i = this.newline(chunk, i, c);
            seg = i + 1;
            state = S.Start;
          } else {
            // Text after a closing quote (`"ab"c`): not RFC 4180; kept literally, as most readers do.
            state = S.Unquoted;
            seg = i;
          }
          break;
      }
    }
    if (state === S.Unquoted || state === S.Quoted) this.field += chunk.slice(seg, n);
    this.state = state;
    return out;
  }

  /** Ends the input: returns the last record when the text did not end with a line break. */
  end(): CsvBatch {
    const out: CsvBatch = { rows: [], lines: [] };
    if (this.state === S.Quoted) throw new CsvError('unterminated quoted field (a quote opened here is never closed)', this.recordLine);
    if (this.state === S.Unquoted || this.state === S.QuoteInQuoted || this.row.length > 0) {
      this.row.push(this.field);
      this.field = '';
      this.emit(out);
    }
    this.state = S.Start;
    return out;
  }

  /** Physical lines consumed so far. */
  get lineNumber(): number {
    return this.line;
  }

  private emit(out: CsvBatch): void {
    out.rows.push(this.row);
    out.lines.push(this.recordLine);
    this.row = [];
  }

  /** Handles a record-ending CR or LF at i; returns the index of the last character of the line break. */
  private newline(chunk: string, i: number, c: number): number {
    this.line++;
    this.recordLine = this.line;
    if (c === CR) {
      if (i + 1 < chunk.length) return chunk.charCodeAt(i + 1) === LF ? i + 1 : i;
      this.skipLf = true; // the LF of this CRLF may open the next chunk
    }
    return i;
  }
}

/** Parses a whole CSV text or buffer (UTF-8, an optional BOM is dropped). */
export function parseCsv(input: string | Buffer): string[][] {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  const p = new CsvParser();
  const a = p.push(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return [...a.rows, ...p.end().rows];
}

export type Compression = 'none' | 'gzip' | 'brotli';

export function compressionOf(file: string): Compression {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.gz' || ext === '.gzip') return 'gzip';
  if (ext === '.br') return 'brotli';
  return 'none';
}

export interface ReadCsvOptions {
  /** Called with the number of (possibly compressed) input bytes consumed so far. */
  onBytes?: (bytes: number) => void;
  compression?: Compression;
}

/**
 * Streams the records of a CSV file (plain, or gzip/brotli by extension) or of a buffer, in batches, with the line
 * each record started on. Memory stays bounded by one chunk plus one record.
 */
export async function* readCsv(source: string | Buffer, opts: ReadCsvOptions = {}): AsyncGenerator<CsvBatch> {
  const compression = opts.compression ?? (typeof source === 'string' ? compressionOf(source) : 'none');
  // Compressed input is read in smaller chunks: the progress display counts input bytes.
  const highWaterMark = compression === 'none' ? 1 << 20 : 1 << 16;
  const raw = typeof source === 'string' ? fs.createReadStream(source, { highWaterMark }) : Readable.from([source]);
  let consumed = 0;
  raw.on('data', (b: Buffer | string) => {
    consumed += b.length;
    opts.onBytes?.(consumed);
  });
  let stream: Readable = raw;
  if (compression === 'gzip') stream = raw.pipe(zlib.createGunzip());
  else if (compression === 'brotli') stream = raw.pipe(zlib.createBrotliDecompress());
  raw.on('error', (e: Error) => stream.destroy(e));
  const decoder = new TextDecoder('utf-8'); // drops a leading BOM
  const parser = new CsvParser();
  try {
    for await (const chunk of stream) {
      const text = decoder.decode(chunk as Buffer, { stream: true });
      const batch = parser.push(text);
      if (batch.rows.length) yield batch;
    }
    const tail = parser.push(decoder.decode());
    if (tail.rows.length) yield tail;
    const last = parser.end();
    if (last.rows.length) yield last;
  } finally {
    raw.destroy();
    stream.destroy();
  }
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV field, quoted when it has to be (RFC 4180). */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(fields: unknown[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

/** Writes CSV records to a file, created on the first record (so an import without rejects leaves no file). */
export class CsvFileWriter {
  private fd: number | null = null;
  private buf: string[] = [];
  private bufLen = 0;
  count = 0;

  constructor(
    readonly file: string,
    private readonly header: string[],
  ) {}

  write(fields: unknown[]): void {
    if (this.fd === null) {
      this.fd = fs.openSync(this.file, 'w');
      this.push(csvLine(this.header));
    }
    this.push(csvLine(fields));
    this.count++;
  }

  private push(s: string): void {
    this.buf.push(s);
    this.bufLen += s.length;
    if (this.bufLen > 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.fd !== null && this.buf.length) fs.writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.bufLen = 0;
  }

  close(): void {
    this.flush();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
