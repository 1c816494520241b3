/**
 * Runs ingest on a worker thread, so that on the embedded default the broker and the HTTP API keep
 * one core while validation, dedup and state work take the other. The handle mirrors `Ingest`.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWorker, IngestWorkerOptions, Metrics, ToWorker } from './protocol.ts';

const STOP_TIMEOUT_MS = 15_000;

export interface IngestWorker {
  isConnected(): boolean;
  /** The worker's metrics, for the process's /metrics. */
  metrics(): Promise<Metrics>;
  refreshPledges(): Promise<void>;
  stop(): Promise<void>;
}

export interface IngestWorkerHostOptions extends IngestWorkerOptions {
  logger: Logger;
  /** Called when the worker dies on its own (not through stop()). */
  onExit?: (code: number) => void;
}

export async function startIngestWorker(opts: IngestWorkerHostOptions): Promise<IngestWorker> {
  const { logger, onExit, ...options } = opts;
  const worker = new Worker(new URL('./boot.js', import.meta.url), {
    workerData: { entry: new URL('./main.ts', import.meta.url).href, options },
  });
  const replies = new Map<number, (message: FromWorker) => void>();
  let nextId = 0;
  let connected = false;
  let stopping = false;
  const send = (message: ToWorker) => worker.postMessage(message);
  const ask = <T extends FromWorker>(make: (id: number) => ToWorker): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      replies.set(id, (m) => resolve(m as T));
      send(make(id));
    });

  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'started':
          return resolve();
        case 'failed':
          return reject(new Error(`ingest failed to start: ${message.error}`));
        case 'connected':
          connected = message.value;
          return;
        case 'metrics':
        case 'refreshed':
          replies.get(message.id)?.(message);
          replies.delete(message.id);
          return;
        case 'stopped':
          return;
      }
    });
    worker.once('error', (err) => {
      logger.fatal({ err }, 'ingest worker crashed');
      reject(err);
    });
    worker.once('exit', (code) => {
      connected = false;
      if (!stopping) {
        logger.fatal({ code }, 'ingest worker exited unexpectedly');
        reject(new Error(`ingest worker exited with code ${code}`));
        onExit?.(code);
      }
    });
  });
  await started;

  return {
    isConnected: () => connected,
    metrics: async () => (await ask<Extract<FromWorker, { type: 'metrics' }>>((id) => ({ type: 'metrics', id }))).metrics,
    refreshPledges: async () => {
      await ask((id) => ({ type: 'refreshPledges', id }));
    },
    async stop() {
      stopping = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      send({ type: 'stop' });
      // stop() drains the message in hand and checkpoints; a worker still alive long after is stuck.
      const timer = setTimeout(() => {
        logger.error('ingest worker did not stop in time; terminating it');
        void worker.terminate();
      }, STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
