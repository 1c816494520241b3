/**
 * One of ingest's worker threads: its own stores, MQTT connection and metrics, one shard of the sites
 * (see shards.ts); driven by the host over messages, through which it also talks to the other shards.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSeriesStore, openStateStore, openWebhookStore, type StateStore } from '@pledgewatch/store';
import { AddressGuard, Dispatcher } from '@pledgewatch/webhooks';
import pino from 'pino';
import { Registry } from 'prom-client';
import { mqttConnection, portConnection } from '../connection.ts';
import { createIngest } from '../ingest.ts';
import { seriesMetrics } from '../series-metrics.ts';
import type { FromWorker, IngestWorkerData, ToWorker } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('ingest worker must run in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);
const { options, handover } = workerData as IngestWorkerData;
const shard = options.shard ?? { index: 0, count: 1 };

const logger = pino({ level: options.logLevel, base: { app: 'pledgewatch', thread: shard.count > 1 ? `ingest-${shard.index}` : 'ingest' } });
const registry = new Registry();
const store = await openStateStore(options.state);
const series = openSeriesStore(options.series, { log: logger.child({ component: 'series' }), metrics: seriesMetrics(registry) });
const webhookStore = options.webhooks === undefined || shard.index > 0 ? null : await openWebhookStore(options.state);
const dispatcher =
  webhookStore === null || options.webhooks === undefined
    ? null
    : new Dispatcher({
        store: webhookStore,
        feed: store,
        guard: new AddressGuard({ allow: options.webhooks.allow }),
        // One process owns a SQLite state file, so its dispatcher is the only one.
        exclusive: options.state.kind === 'sqlite',
        logger,
        registry,
        ...(options.webhooks.pollMs === undefined ? {} : { pollMs: options.webhooks.pollMs }),
        ...(options.webhooks.concurrencyPerEndpoint === undefined ? {} : { concurrencyPerEndpoint: options.webhooks.concurrencyPerEndpoint }),
      });
// Shard 0 wakes its own dispatcher; the others wake it through the host.
const wake = dispatcher !== null ? () => dispatcher.notify() : options.webhooks !== undefined ? () => send({ type: 'notify' }) : null;
const ingest = createIngest({
  store: wake === null ? store : notifyOnEvents(store, wake),
  series,
  logger,
  registry,
  connection: connection(),
  ...(options.checkpointMs === undefined ? {} : { checkpointMs: options.checkpointMs }),
  ...(options.pledgeRefreshMs === undefined ? {} : { pledgeRefreshMs: options.pledgeRefreshMs }),
  ...(options.rules === undefined ? {} : { rules: options.rules }),
  shard: { ...shard, share: (news, to) => send({ type: 'share', to, news }) },
  // The host sees the thread exit and stops the process (its onExit).
  onFatal: () => setImmediate(() => process.exit(1)),
});

function connection() {
  if (options.mqtt !== undefined) return mqttConnection({ ...options.mqtt, logger });
  if (handover === undefined) throw new Error('ingest worker has neither an MQTT broker nor the embedded broker’s hand-over');
  return portConnection(handover, logger);
}

let connected = false;
const watch = setInterval(() => {
  if (ingest.isConnected() !== connected) send({ type: 'connected', value: (connected = !connected) });
}, 250);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'metrics':
      void registry.getMetricsAsJSON().then((metrics) => send({ type: 'metrics', id: message.id, metrics }));
      break;
    case 'total':
      void Promise.resolve(registry.getSingleMetric(message.name)?.get()).then((metric) =>
        send({ type: 'total', id: message.id, total: (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0) }),
      );
      break;
    case 'refreshPledges':
      void ingest.refreshPledges().then(() => send({ type: 'refreshed', id: message.id }));
      break;
    case 'news':
      void ingest.receive(message.news);
      break;
    case 'notify':
      dispatcher?.notify();
      break;
    case 'stop':
      clearInterval(watch);
      void (async () => {
        await ingest.stop();
        await dispatcher?.stop();
        await webhookStore?.close();
        await series.close();
        await store.close();
        send({ type: 'stopped' });
        port.close();
      })();
      break;
  }
});

/**
 * The state store as ingest sees it, waking the dispatcher as soon as alert or status changes (and so
 * outbox events) are committed: a webhook goes out in milliseconds instead of at the next poll.
 */
function notifyOnEvents(inner: StateStore, notify: () => void): StateStore {
  const wrapped = Object.create(inner) as StateStore;
  wrapped.commitBatch = async (batch, alerts = [], statuses = []) => {
    const logged = await inner.commitBatch(batch, alerts, statuses);
    if (logged && alerts.length + statuses.length > 0) notify();
    return logged;
  };
  wrapped.commitBatches = async (entries) => {
    const fresh = await inner.commitBatches(entries);
    if (entries.some((e, i) => fresh[i] === true && e.alerts.length + e.statuses.length > 0)) notify();
    return fresh;
  };
  wrapped.applyAlertChanges = async (changes, statuses = []) => {
    await inner.applyAlertChanges(changes, statuses);
    if (changes.length + statuses.length > 0) notify();
  };
  return wrapped;
}

try {
  await ingest.start();
  dispatcher?.start();
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
