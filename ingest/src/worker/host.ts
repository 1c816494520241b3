/**
 * Runs ingest on worker threads, one shard of the sites each (see shards.ts), so that on the embedded
 * default the broker and the HTTP API keep a core while validation, dedup and state work take the
 * others. The host relays what shards tell each other (news, dispatcher wake-ups); the handle mirrors
 * `Ingest` for all of them together.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { IngestHandover } from '../broker/handover.ts';
import { MAX_INGEST_SHARDS } from '../shards.ts';
import { shardMqtt } from './sessions.ts';
import type { FromWorker, IngestWorkerData, IngestWorkerOptions, Metrics, ToWorker } from './protocol.ts';

const STOP_TIMEOUT_MS = 15_000;
/** A single ingest's PostgreSQL pool; shards share about as many between them. */
const POOL_SIZE = 10;

export interface IngestWorker {
  /** Every shard connected to the broker. */
  isConnected(): boolean;
  /** The workers' metrics, merged, for the process's /metrics. */
  metrics(): Promise<Metrics>;
  /** One counter's (or gauge's) value over every worker and label, e.g. the events applied so far. */
  total(name: string): Promise<number>;
  refreshPledges(): Promise<void>;
  stop(): Promise<void>;
}

export interface IngestWorkerHostOptions extends Omit<IngestWorkerOptions, 'shard'> {
  logger: Logger;
  /** Worker threads, each one shard of the sites (default 1). */
  workers?: number;
  /** Called when a worker dies on its own (not through stop()). */
  onExit?: (code: number) => void;
  /** The embedded broker's hand-over, which the shards read instead of an MQTT broker (no `mqtt` then). */
  handover?: IngestHandover;
}

/** One worker thread, as the host sees it. */
interface Shard {
  post(message: ToWorker): void;
  ask<T extends FromWorker>(make: (id: number) => ToWorker): Promise<T>;
  connected: boolean;
  started: Promise<void>;
  stop(): Promise<void>;
}

export async function startIngestWorker(opts: IngestWorkerHostOptions): Promise<IngestWorker> {
  const { logger, onExit, handover, workers = 1, ...options } = opts;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_INGEST_SHARDS) {
    throw new RangeError(`ingest workers must be an integer from 1 to ${MAX_INGEST_SHARDS}, not ${workers}`);
  }
  if ((options.mqtt === undefined) === (handover === undefined)) throw new Error('ingest reads either an MQTT broker or the embedded broker’s hand-over, exactly one');
  if (handover !== undefined && handover.shards !== workers) throw new Error(`the hand-over serves ${handover.shards} shards, not ${workers}`);
  let stopping = false;
  const shards: Shard[] = [];
  const relay = (from: number, message: Extract<FromWorker, { type: 'share' | 'notify' }>) => {
    if (message.type === 'notify') return shards[0]?.post({ type: 'notify' });
    shards.forEach((s, k) => {
      if (message.to === null ? k !== from : k === message.to) s.post({ type: 'news', news: message.news });
    });
  };
  const died = (code: number) => {
    if (stopping) return;
    stopping = true;
    onExit?.(code);
  };
  for (let k = 0; k < workers; k++) {
    const shardOptions: IngestWorkerOptions = {
      ...options,
      state: shardState(options.state, workers),
      ...(options.mqtt === undefined ? {} : { mqtt: shardMqtt(options.mqtt, k) }),
      shard: { index: k, count: workers },
    };
    const feed = handover === undefined ? undefined : (port: MessagePort) => handover.attach(k, port);
    shards.push(spawn(shardOptions, feed, workers > 1 ? logger.child({ shard: k }) : logger, (m) => relay(k, m), () => stopping, died));
  }
  const failure = (await Promise.allSettled(shards.map((s) => s.started))).find((r) => r.status === 'rejected');
  if (failure !== undefined) {
    stopping = true;
    await Promise.all(shards.map((s) => s.stop()));
    throw failure.reason;
  }

  return {
    isConnected: () => shards.every((s) => s.connected),
    metrics: async () => {
      const all = await Promise.all(shards.map(async (s) => (await s.ask<Extract<FromWorker, { type: 'metrics' }>>((id) => ({ type: 'metrics', id }))).metrics));
      return all.length === 1 ? (all[0] as Metrics) : AggregatorRegistry.aggregate(all).getMetricsAsJSON();
    },
    total: async (name) => {
      const all = await Promise.all(shards.map((s) => s.ask<Extract<FromWorker, { type: 'total' }>>((id) => ({ type: 'total', id, name }))));
      return all.reduce((sum, r) => sum + r.total, 0);
    },
    refreshPledges: async () => {
      await Promise.all(shards.map((s) => s.ask((id) => ({ type: 'refreshPledges', id }))));
    },
    async stop() {
      stopping = true;
      await Promise.all(shards.map((s) => s.stop()));
    },
  };
}

/** Sharded on PostgreSQL, each shard's pool is a share of one ingest's, so the process holds about as many connections. */
function shardState(state: IngestWorkerOptions['state'], workers: number): IngestWorkerOptions['state'] {
  if (workers === 1 || state.kind !== 'postgres' || state.poolSize !== undefined) return state;
  return { ...state, poolSize: Math.max(3, Math.ceil(POOL_SIZE / workers)) };
}

/**
 * Young generation of a worker's heap, as Node counts it: three times V8's semi-space (two semi-spaces
 * and new large objects); the default, 48 MB, has 16 MB semi-spaces. A batch's
 * events, and the tag states that replace each other a few batches later, die young when the nursery
 * holds a second or so of traffic; in a small one they are promoted first and collected by the old
 * generation's far costlier marking. 192 MB (64 MB semi-spaces) cut ingest's CPU a tag event by a fifth
 * in-process; V8 grows the nursery towards it only while traffic keeps it busy (up to ~128 MB of memory a
 * worker under full load).
 */
const YOUNG_GENERATION_MB = 192;

function spawn(
  options: IngestWorkerOptions,
  /** Attaches the host's end of the worker's hand-over channel, when it reads the embedded broker. */
  feed: ((port: MessagePort) => void) | undefined,
  logger: Logger,
  relay: (message: Extract<FromWorker, { type: 'share' | 'notify' }>) => void,
  stopping: () => boolean,
  died: (code: number) => void,
): Shard {
  const channel = feed === undefined ? undefined : new MessageChannel();
  const workerData: IngestWorkerData = { entry: new URL('./main.ts', import.meta.url).href, options, ...(channel === undefined ? {} : { handover: channel.port2 }) };
  const worker = new Worker(new URL('./boot.js', import.meta.url), {
    workerData,
    ...(channel === undefined ? {} : { transferList: [channel.port2] }),
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  // Messages posted before the worker has loaded its state wait in its end of the channel.
  if (channel !== undefined) feed?.(channel.port1);
  const replies = new Map<number, { resolve: (message: FromWorker) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let alive = true;
  /** A worker that reported it could not start exits after that, as expected. */
  let failed = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const post = (message: ToWorker) => {
    if (alive) worker.postMessage(message);
  };
  const shard: Shard = {
    post,
    ask: <T extends FromWorker>(make: (id: number) => ToWorker): Promise<T> =>
      new Promise((resolve, reject) => {
        // A worker that is gone answers nothing: say so rather than leave /metrics hanging.
        if (!alive) return reject(new Error('ingest worker has exited'));
        const id = nextId++;
        replies.set(id, { resolve: (m) => resolve(m as T), reject });
        post(make(id));
      }),
    connected: false,
    started: new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'started':
            return resolve();
          case 'failed':
            failed = true;
            return reject(new Error(`ingest failed to start: ${message.error}`));
          case 'connected':
            shard.connected = message.value;
            return;
          case 'metrics':
          case 'total':
          case 'refreshed':
            replies.get(message.id)?.resolve(message);
            replies.delete(message.id);
            return;
          case 'share':
          case 'notify':
            return relay(message);
          case 'stopped':
            return;
        }
      });
      worker.once('error', (err) => {
        logger.fatal({ err }, 'ingest worker crashed');
        reject(err);
      });
      worker.once('exit', (code) => {
        alive = false;
        shard.connected = false;
        for (const r of replies.values()) r.reject(new Error(`ingest worker exited with code ${code}`));
        replies.clear();
        if (!stopping() && !failed) {
          logger.fatal({ code }, 'ingest worker exited unexpectedly');
          reject(new Error(`ingest worker exited with code ${code}`));
          died(code);
        }
      });
    }),
    async stop() {
      if (!alive) return;
      post({ type: 'stop' });
      // stop() drains the message in hand and checkpoints; a worker still alive long after is stuck.
      const timer = setTimeout(() => {
        logger.error('ingest worker did not stop in time; terminating it');
        void worker.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  return shard;
}
