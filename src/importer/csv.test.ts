import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, CsvFileWriter, CsvParser, csvField, csvLine, parseCsv, readCsv } from './csv.ts';

/** Feeds `text` to a fresh parser in the given chunk sizes; returns records and their start lines. */
function chunked(text: string, sizes: number[]): { rows: string[][]; lines: number[] } {
  const p = new CsvParser();
  const rows: string[][] = [];
  const lines: number[] = [];
  let i = 0;
  let k = 0;
  while (i < text.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    const b = p.push(text.slice(i, i + n));
    rows.push(...b.rows);
    lines.push(...b.lines);
    i += n;
  }
  const e = p.end();
  return { rows: [...rows, ...e.rows], lines: [...lines, ...e.lines] };
}

describe('CSV parser (RFC 4180)', () => {
  it('splits plain fields and records', () => {
    expect(parseCsv('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    expect(parseCsv('"a,b","say ""hi""","two\r\nlines"\r\nx,"",y\r\n')).toEqual([
      ['a,b', 'say "hi"', 'two\r\nlines'],
      ['x', '', 'y'],
    ]);
  });

  it('reads empty unquoted fields, including leading and trailing ones', () => {
    expect(parseCsv(',a,,b,\n,,\n')).toEqual([
      ['', 'a', '', 'b', ''],
      ['', '', ''],
    ]);
  });

  it('accepts CRLF, LF and lone CR line ends, with or without a final one', () => {
    expect(parseCsv('a,b\r\nc,d\ne,f\rg,h')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
    expect(parseCsv('a\r\n')).toEqual([['a']]);
    expect(parseCsv('"a"')).toEqual([['a']]);
  });

  it('skips blank lines but keeps a line holding one quoted empty field', () => {
    expect(parseCsv('a\n\n\r\nb\n""\n')).toEqual([['a'], ['b'], ['']]);
  });

  it('keeps text after a closing quote literally (lenient, like most readers)', () => {
    expect(parseCsv('"ab"c,d\n')).toEqual([['abc', 'd']]);
    expect(parseCsv('a"b,c\n')).toEqual([['a"b', 'c']]);
  });

  it('drops a UTF-8 BOM and decodes multi-byte characters', () => {
    expect(parseCsv(Buffer.from('\ufeffnäme,€\n', 'utf8'))).toEqual([['näme', '€']]);
  });

  it('reports the line each record starts on, counting line breaks inside quotes', () => {
    const r = chunked('h1,h2\n"x\r\ny",1\n\nz,2\r\n"a\rb",3\n', [1000]);
    expect(r.rows).toEqual([
      ['h1', 'h2'],
      ['x\r\ny', '1'],
      ['z', '2'],
      ['a\rb', '3'],
    ]);
    expect(r.lines).toEqual([1, 2, 5, 6]);
  });

  it('throws on a quote that is never closed, naming the line it opened on', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n')).toThrow(CsvError);
    expect(() => parseCsv('a,b\n1,"open\n2,3\n')).toThrow(/line 2: unterminated/);
  });

  it('gives the same records however the text is cut into chunks', () => {
    const text = 'id,"na,me",x\r\n1,"he said ""yes""\r\nthen left",\r\n2,,"\r"\r\n\r\n3,plain,"""q"""\n4,"a\nb"';
    const whole = chunked(text, [text.length]);
    for (let size = 1; size <= 12; size++) expect(chunked(text, [size])).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        expect(chunked(text, sizes)).toEqual(whole);
      }),
    );
  });

  it('round-trips any table through csvLine and the parser', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r', '\n', ' ', 'é') , maxLength: 6 });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), (table) => {
        const text = table.map((r) => csvLine(r)).join('');
        // A record of only empty fields written as ",," is still a record; one lone empty field would be a blank line.
        expect(parseCsv(text)).toEqual(table);
      }),
    );
  });

  it('quotes only the fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
  });
});

describe('readCsv', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnia-csv-'));
  const text = 'a,b\n"1,5","x""y"\n2,\n';
  const expected = [
    ['a', 'b'],
    ['1,5', 'x"y'],
    ['2', ''],
  ];
  const collect = async (src: string | Buffer) => {
    const rows: string[][] = [];
    for await (const b of readCsv(src)) rows.push(...b.rows);
    return rows;
  };

  it('streams a plain, a gzip and a brotli file (by extension) and a buffer', async () => {
    fs.writeFileSync(path.join(dir, 'p.csv'), text);
    fs.writeFileSync(path.join(dir, 'g.csv.gz'), zlib.gzipSync(text));
    fs.writeFileSync(path.join(dir, 'b.csv.br'), zlib.brotliCompressSync(text));
    expect(await collect(path.join(dir, 'p.csv'))).toEqual(expected);
    expect(await collect(path.join(dir, 'g.csv.gz'))).toEqual(expected);
    expect(await collect(path.join(dir, 'b.csv.br'))).toEqual(expected);
    expect(await collect(Buffer.from(text))).toEqual(expected);
  });

  it('handles records larger than a read chunk', async () => {
    const big = 'x'.repeat(3 << 20);
    fs.writeFileSync(path.join(dir, 'big.csv'), `a,b\n"${big}",1\n`);
    const rows = await collect(path.join(dir, 'big.csv'));
    expect(rows[1]![0]!.length).toBe(big.length);
    expect(rows[1]![1]).toBe('1');
  });

  it('writes a CSV file only once something is written', () => {
    const f = path.join(dir, 'out.csv');
    const w = new CsvFileWriter(f, ['a', 'reason']);
    w.close();
    expect(fs.existsSync(f)).toBe(false);
    const w2 = new CsvFileWriter(f, ['a', 'reason']);
    w2.write(['x,y', 'bad "quote"']);
    w2.close();
    expect(parseCsv(fs.readFileSync(f))).toEqual([
      ['a', 'reason'],
      ['x,y', 'bad "quote"'],
    ]);
  });
});
