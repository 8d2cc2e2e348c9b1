// A journey worker PROCESS for `journey-throughput` (forked with IPC): opens the store the parent prepared, runs the
// journey worker only (no ingest, identity, segments or messaging), and drains rounds until the parent says stop;
// then reports how many node transitions it made.
import { openRuntime } from '../../src/app/runtime.ts';

const url = process.argv[2]!;
const rt = await openRuntime({ databaseUrl: url, workers: false, poolSize: 6 });
rt.store.pool?.on('error', () => {});
let stop = false;
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stop') stop = true;
});
process.send!({ type: 'ready' });
while (!stop) {
  await rt.journeys.drain();
  await new Promise((r) => setTimeout(r, 10));
}
process.send!({ type: 'done', transitions: rt.journeys.transitions });
await rt.close();
process.exit(0);
