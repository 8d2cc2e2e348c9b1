// The import benchmark's baselines, each run as its own process exactly like the import command is: read the file,
// decompress it (brotli/gzip by extension), parse the CSV into rows of fields, count them, nothing else. Prints JSON.
//   --reader bench   the benchmark's own streaming parser (bench/lib/csv.ts): an independent reference
//   --reader omnia   the importer's own reader (readCsv in src/importer/csv.ts): what the import pays before any
//                    mapping, validation or storage
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CsvParser } from './csv.ts';

const [reader, file] = [process.argv[2] === '--reader' ? process.argv[3] : 'bench', process.argv[2] === '--reader' ? process.argv[4] : process.argv[2]];
if (!file || (reader !== 'bench' && reader !== 'omnia')) {
  console.error('usage: csv-baseline [--reader bench|omnia] FILE');
  process.exit(2);
}
const t0 = performance.now();
let rows = 0;
let fields = 0;
if (reader === 'omnia') {
  // Loaded at run time so the benchmark still typechecks and runs if the importer's module moves.
  const mod = (await import('../../src/importer/csv.ts')) as {
    readCsv: (source: string) => AsyncGenerator<{ rows: string[][] }>;
  };
  for await (const batch of mod.readCsv(file)) {
    rows += batch.rows.length;
    for (const r of batch.rows) fields += r.length;
  }
} else {
  const parser = new CsvParser((r) => {
    rows++;
    fields += r.length;
  });
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = file.endsWith('.br') ? raw.pipe(zlib.createBrotliDecompress()) : file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
  stream.setEncoding('utf8');
  for await (const chunk of stream) parser.push(chunk as string);
  parser.end();
}
// The header is not a data row.
console.log(JSON.stringify({ reader, rows: rows - 1, fields, ms: performance.now() - t0 }));
