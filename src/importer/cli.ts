// `omnia import customers|orders|events FILE.csv [options]` (see docs/import.md).
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config.ts';
import { openRuntime } from '../app/runtime.ts';
import { DEFAULT_WORKSPACE, bootstrapDefaultWorkspace, workspaceExists } from '../workspaces/keys.ts';
import { IMPORT_KINDS, type ImportKind, FIELDS, MappingError } from './mapping.ts';
import { ImportError, type ImportSummary, importFile } from './import.ts';
import { Progress } from './progress.ts';
import { recomputeRfm } from '../segments/rfm.ts';
import type { DateOrder } from './time.ts';
import { CsvError } from './csv.ts';

export const IMPORT_USAGE = `usage: omnia import customers|orders|events FILE.csv[.gz|.br] [options]

  --map field=Column,…     which column feeds which field (repeatable); field= turns a default off;
                           traits.x=Col, properties.x=Col, context.x=Col carry any other column
  --workspace ID           workspace to import into (default: ${DEFAULT_WORKSPACE})
  --rejects FILE           where rejected rows go (default: ./rejects-<file name>.csv)
  --currency CODE          currency of the amounts when no column says (default: USD)
  --timezone ZONE          time zone of date-times without an offset (default: UTC)
  --date-format ymd|mdy|dmy  order of day and month in dates like 12/1/2010
  --channel NAME           context.channel of the calls (default: import; events: inferred)
  --refund-prefix P        orders: ids starting with P whose quantities are negative are refunds (default: C)
  --fields                 list the fields of each kind and their default columns`;

export function fieldsHelp(): string {
  return IMPORT_KINDS.map(
    (k) => `${k}:\n${FIELDS[k].map((f) => `  ${f.name.padEnd(13)} ${f.required ? '(required) ' : ''}${f.help}; default columns: ${f.columns.join(', ')}`).join('\n')}`,
  ).join('\n\n');
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatMinor(minor: number, currency: string, digits = 2): string {
  const neg = minor < 0;
  const a = Math.abs(minor);
  const major = Math.floor(a / 10 ** digits);
  const frac = digits ? `.${String(a % 10 ** digits).padStart(digits, '0')}` : '';
  return `${neg ? '-' : ''}${n(major)}${frac} ${currency}`;
}

export function formatSummary(s: ImportSummary, dialect: string): string {
  const pad = (label: string, v: number | string, note = '') => `  ${label.padEnd(20)}${String(typeof v === 'number' ? n(v) : v).padStart(12)}${note ? `  ${note}` : ''}`;
  const lines = [`Imported ${s.kind} from ${s.file} into workspace "${s.workspaceId}" (${dialect})`];
  lines.push(pad('rows read', s.rowsRead));
  lines.push(pad('rows ok', s.rowsOk));
  lines.push(pad('rows rejected', s.rowsRejected, s.rejectsFile ? `→ ${s.rejectsFile}` : ''));
  if (s.rowsSkipped) lines.push(pad('rows skipped', s.rowsSkipped, 'no customer id, e-mail or phone (e.g. guest order lines)'));
  const kinds = Object.entries(s.byEvent)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${n(v)} ${k}`)
    .join(', ');
  lines.push(pad('events', s.events, kinds));
  lines.push(pad('events written', s.eventsWritten));
  lines.push(pad('duplicates skipped', s.duplicates, s.duplicates ? 'already imported (same messageId)' : ''));
  for (const [cur, minor] of Object.entries(s.revenueMinor)) lines.push(pad('revenue', formatMinor(minor, cur), `${n(minor)} minor units`));
  if (s.truncatedOrders) lines.push(pad('orders truncated', s.truncatedOrders, 'products list cut to the 32 KB event limit (totals complete)'));
  if (s.unusedColumns.length) lines.push(`  columns not imported: ${s.unusedColumns.join(', ')} (map with --map traits.x=Column …)`);
  const rate = s.importSeconds > 0 ? ` (${n(Math.round(s.rowsRead / s.importSeconds))} rows/s)` : '';
  lines.push(`  time                ${s.importSeconds.toFixed(1)} s import${rate}, ${s.attributeSeconds.toFixed(1)} s attributing ${n(s.attributed)} events to profiles`);
  return lines.join('\n');
}

export async function runImportCli(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        map: { type: 'string', multiple: true },
        workspace: { type: 'string', default: DEFAULT_WORKSPACE },
        rejects: { type: 'string' },
        currency: { type: 'string' },
        timezone: { type: 'string' },
        'date-format': { type: 'string' },
        channel: { type: 'string' },
        'refund-prefix': { type: 'string' },
        fields: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  if (values.fields) {
    console.log(fieldsHelp());
    return 0;
  }
  const [kind, file, ...extra] = positionals;
  if (!kind || !IMPORT_KINDS.includes(kind as ImportKind) || !file || extra.length) {
    console.error(IMPORT_USAGE);
    return 2;
  }
  const dateFormat = values['date-format'];
  if (dateFormat !== undefined && !['ymd', 'mdy', 'dmy'].includes(dateFormat)) {
    console.error('--date-format must be ymd, mdy or dmy');
    return 2;
  }

  const config = loadConfig();
  const rt = await openRuntime({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, workers: false });
  try {
    const { generated } = await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
    for (const g of generated) console.error(`first run: created the default workspace's ${g.kind} key (shown once, store it now): ${g.key}`);
    if (!(await workspaceExists(rt.store, values.workspace!))) {
      console.error(`no workspace "${values.workspace}" (see: omnia workspaces list)`);
      return 2;
    }
    const summary = await importFile(rt, {
      kind: kind as ImportKind,
      file,
      workspaceId: values.workspace!,
      map: values.map,
      rejectsFile: values.rejects,
      currency: values.currency,
      timezone: values.timezone,
      dateOrder: dateFormat as DateOrder | undefined,
      channel: values.channel,
      refundPrefix: values['refund-prefix'],
      progress: new Progress(),
    });
    console.log(formatSummary(summary, rt.store.dialect));
    // New orders change RFM stages, which are otherwise recomputed once a day.
    if (kind !== 'customers' && summary.eventsWritten > 0) {
      const stages = await recomputeRfm(rt.store, values.workspace!, Date.now());
      console.log(`  RFM stages recomputed: ${Object.values(stages).reduce((a, b) => a + b, 0).toLocaleString('en-US')} customers`);
    }
    return 0;
  } catch (e) {
    if (e instanceof MappingError || e instanceof ImportError || e instanceof CsvError) {
      console.error(`omnia import: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    await rt.close();
  }
}
