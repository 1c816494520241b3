/**
 * The HTTP load generator of `npm run bench -- api`, on a worker thread of its own so that autocannon
 * does not share the event loop of the server it measures. Started by `runLoad`, it cycles through the
 * given paths (one request each, in order, round and round) and answers with autocannon's summary.
 */
import autocannon from 'autocannon';
import { parentPort, Worker, workerData } from 'node:worker_threads';

export interface LoadSpec {
  url: string;
  /** Request paths, taken in turn. */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** Stop after this many requests instead of after `durationS`. */
  amount?: number;
}

export interface LoadResult {
  reqPerS: number;
  requests: number;
  p99Ms: number;
  /** Answers other than 2xx, and connection errors: a run with any is no measurement. */
  failures: number;
}

/** Runs one load on a fresh worker thread and returns what it measured. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  // The bootstrap of ingest's worker threads: it registers tsx, then imports workerData.entry.
  const worker = new Worker(new URL('./worker/boot.js', import.meta.resolve('@pledgewatch/ingest')), {
    workerData: { entry: new URL('./http-load.ts', import.meta.url).href, spec },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: LoadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

/**
 * autocannon's decoding of its raw histograms, which it skips off the main thread (it takes itself for
 * one of its own workers there, and leaves the requests-per-second histogram to its manager); exported,
 * but absent from @types/autocannon.
 */
const { aggregateResult } = autocannon as unknown as { aggregateResult(this: void, raw: unknown[], opts: autocannon.Options): autocannon.Result };

async function load(spec: LoadSpec): Promise<LoadResult> {
  let next = 0;
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    ...(spec.amount === undefined ? {} : { amount: spec.amount }),
    headers: spec.headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: spec.paths[next++ % spec.paths.length] ?? '/' }),
      },
    ],
  };
  const raw = (await autocannon(options)) as autocannon.Result & { totalCompletedRequests: number };
  const result = aggregateResult([raw], options);
  return { reqPerS: raw.totalCompletedRequests / raw.duration, requests: raw.totalCompletedRequests, p99Ms: result.latency.p99, failures: result.non2xx + result.errors };
}

if (parentPort !== null && (workerData as { spec?: LoadSpec } | null)?.spec !== undefined) {
  const port = parentPort;
  port.postMessage(await load((workerData as { spec: LoadSpec }).spec));
}
