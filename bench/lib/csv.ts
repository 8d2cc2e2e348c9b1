// A small streaming RFC 4180 CSV parser (quoted fields, "" escapes, newlines inside quotes, CRLF), used only as the
// import benchmark's baseline: it has to be fast, or the baseline would flatter the importer.
const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export class CsvParser {
  private row: string[] = [];
  private field = '';
  private inQuotes = false;
  /** A closing-or-escaped quote was the last character of the previous chunk. */
  private quoteAtEnd = false;
  /** The current field started with a quote (so it is a quoted field). */
  private started = false;

  constructor(private readonly onRow: (row: string[]) => void) {}

  push(chunk: string): void {
    let i = 0;
    const n = chunk.length;
    if (this.quoteAtEnd) {
      this.quoteAtEnd = false;
      if (n > 0 && chunk.charCodeAt(0) === QUOTE) {
        this.field += '"';
        i = 1;
      } else this.inQuotes = false;
    }
    while (i < n) {
      if (this.inQuotes) {
        const j = chunk.indexOf('"', i);
        if (j === -1) {
          this.field += chunk.slice(i);
          return;
        }
        this.field += chunk.slice(i, j);
        if (j + 1 === n) {
          this.quoteAtEnd = true;
          return;
        }
        if (chunk.charCodeAt(j + 1) === QUOTE) {
          this.field += '"';
          i = j + 2;
        } else {
          this.inQuotes = false;
          i = j + 1;
        }
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === QUOTE && !this.started && this.field === '') {
        this.inQuotes = true;
        this.started = true;
        i++;
        continue;
      }
      if (c === COMMA) {
        this.row.push(this.field);
        this.field = '';
        this.started = false;
        i++;
        continue;
      }
      if (c === LF) {
        this.endRow();
        i++;
        continue;
      }
      if (c === CR) {
        i++;
        continue;
      }
      // Unquoted run: up to the next delimiter.
      let j = i + 1;
      while (j < n) {
        const d = chunk.charCodeAt(j);
        if (d === COMMA || d === LF || d === CR) break;
        j++;
      }
      this.field += chunk.slice(i, j);
      i = j;
    }
  }

  private endRow(): void {
    this.row.push(this.field);
    this.field = '';
    this.started = false;
    const r = this.row;
    this.row = [];
    this.onRow(r);
  }

  end(): void {
    if (this.quoteAtEnd) {
      this.quoteAtEnd = false;
      this.inQuotes = false;
    }
    if (this.field !== '' || this.row.length > 0 || this.started) this.endRow();
  }
}
