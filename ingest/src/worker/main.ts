/** Ingest's worker thread: its own stores, MQTT connection and metrics; driven by the host over messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSeriesStore, openStateStore } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { mqttConnection } from '../connection.ts';
import { createIngest } from '../ingest.ts';
import type { FromWorker, IngestWorkerOptions, ToWorker } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('ingest worker must run in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);
const { options } = workerData as { options: IngestWorkerOptions };

const logger = pino({ level: options.logLevel, base: { app: 'pledgewatch', thread: 'ingest' } });
const registry = new Registry();
const store = openStateStore(options.state);
const series = openSeriesStore(options.series);
const ingest = createIngest({
  store,
  series,
  logger,
  registry,
  connection: mqttConnection({ ...options.mqtt, logger }),
  ...(options.checkpointMs === undefined ? {} : { checkpointMs: options.checkpointMs }),
  ...(options.pledgeRefreshMs === undefined ? {} : { pledgeRefreshMs: options.pledgeRefreshMs }),
});

let connected = false;
const watch = setInterval(() => {
  if (ingest.isConnected() !== connected) send({ type: 'connected', value: (connected = !connected) });
}, 250);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'metrics':
      void registry.getMetricsAsJSON().then((metrics) => send({ type: 'metrics', id: message.id, metrics }));
      break;
    case 'refreshPledges':
      void ingest.refreshPledges().then(() => send({ type: 'refreshed', id: message.id }));
      break;
    case 'stop':
      clearInterval(watch);
      void (async () => {
        await ingest.stop();
        await series.close();
        await store.close();
        send({ type: 'stopped' });
        port.close();
      })();
      break;
  }
});

try {
  await ingest.start();
  connected = ingest.isConnected();
  send({ type: 'connected', value: connected });
  send({ type: 'started' });
} catch (err) {
  clearInterval(watch);
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  await series.close();
  await store.close();
  port.close();
}
