// The running platform's parts, shared by the server, the workers and the CLI: store, event writer, identity processor.
import { type Store, type StoreOptions, openStore } from '../store/db.ts';
import { EventWriter, type WriterOptions } from '../ingest/writer.ts';
import { IdentityProcessor } from '../identity/processor.ts';
import { type Clock, SegmentEngine } from '../segments/engine.ts';
import { type WebhookService, openWebhooks } from '../webhooks/service.ts';
import { secretsFor } from './secrets.ts';
import { MessagingService } from '../messaging/service.ts';
import { JourneyService } from '../journeys/service.ts';
import { journeyPreCheck } from '../journeys/promotions.ts';

/** Past this many written-but-unattributed events, new events are refused with 429 until identity catches up. */
const MAX_IDENTITY_BACKLOG = 500_000;

export interface Runtime {
  store: Store;
  writer: EventWriter;
  processor: IdentityProcessor;
  segments: SegmentEngine;
  webhooks: WebhookService;
  messaging: MessagingService;
  journeys: JourneyService;
  /** Ingestion should answer 429: the writer's queue or the identity backlog is past its bound. */
  overloaded(): boolean;
  close(): Promise<void>;
}

export interface RuntimeOptions extends StoreOptions {
  writer?: WriterOptions;
  /** Run the identity processor in this process (the worker role). */
  workers?: boolean;
  /** Injected clock (tests simulate days passing); default Date.now. */
  clock?: Clock;
  log?: (msg: string, err?: unknown) => void;
  /** Base of tracking, unsubscribe and preference links (OMNIA_PUBLIC_URL). */
  publicUrl?: string;
  /** Messaging may reach loopback/private hosts (tests and development). */
  allowPrivateNetwork?: boolean;
}

export async function openRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const store = await openStore(opts);
  const writer = new EventWriter(store, opts.writer);
  const processor = new IdentityProcessor(store, { log: opts.log });
  const segments = new SegmentEngine(store, { log: opts.log, clock: opts.clock });
  const webhooks = await openWebhooks(store, segments, { log: opts.log, clock: opts.clock });
  const messaging = new MessagingService(store, segments, await secretsFor(store), {
    clock: opts.clock,
    log: opts.log,
    publicUrl: opts.publicUrl ?? process.env.OMNIA_PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`,
    allowPrivateNetwork: opts.allowPrivateNetwork,
  });
  const journeys = new JourneyService(store, segments, messaging, { clock: opts.clock, log: opts.log });
  messaging.preChecks.push(journeyPreCheck);
  if (opts.workers !== false) {
    writer.onCommit((n) => {
      processor.noteIngested(n);
      processor.wake();
    });
    processor.onCommit(() => {
      segments.wake();
      journeys.wake();
    });
    processor.start();
    segments.start();
    webhooks.start();
    messaging.start();
    journeys.start();
  }
  return {
    store,
    writer,
    processor,
    segments,
    webhooks,
    messaging,
    journeys,
    overloaded: () => writer.overloaded || processor.backlog > MAX_IDENTITY_BACKLOG,
    async close() {
      // Order matters: finish acknowledged writes, let the processor finish its batch, then close the store.
      await writer.close();
      await processor.stop();
      await segments.stop();
      await webhooks.stop();
      await journeys.stop();
      await messaging.stop();
      await store.close();
    },
  };
}
