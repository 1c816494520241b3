/**
 * The composition root of the central side: stores, broker, ingest and API in one process on the
 * embedded defaults (or an external broker with PW_MQTT_URL). Adapters are chosen here and nowhere else.
 * Ingest runs on a worker thread with its own store connections, so the broker and the API keep a core.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { redactUrl, topics } from '@pledgewatch/common';
import { startEmbeddedBroker, startIngestWorker, type EmbeddedBroker } from '@pledgewatch/ingest';
import { buildApp, startApi } from '@pledgewatch/monitor-api';
import { AddressGuard } from '@pledgewatch/webhooks';
import {
  openSeriesStore,
  openStateStore,
  openWebhookStore,
  type SeriesStore,
  type SeriesStoreSpec,
  type StateStore,
  type StateStoreSpec,
} from '@pledgewatch/store';
import type { Logger } from 'pino';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import type { CentralConfig } from './config.ts';

export interface Central {
  apiUrl: string;
  mqttUrl: string;
  store: StateStore;
  /** Drains in order: stop taking HTTP requests, finish the MQTT message in hand, flush series, close stores. */
  stop(): Promise<void>;
}

/**
 * The adapters config selects: SQLite under the data dir by default, InfluxDB for series with
 * PW_INFLUX_URL, PostgreSQL for state with PW_DATABASE_URL.
 */
export function storeSpecs(config: Pick<CentralConfig, 'dataDir' | 'influxUrl' | 'databaseUrl'>): { state: StateStoreSpec; series: SeriesStoreSpec } {
  mkdirSync(config.dataDir, { recursive: true });
  return {
    state: config.databaseUrl === undefined ? { kind: 'sqlite', path: join(config.dataDir, 'state.db') } : { kind: 'postgres', url: config.databaseUrl },
    series: config.influxUrl === undefined ? { kind: 'sqlite', path: join(config.dataDir, 'series.db') } : { kind: 'influx', url: config.influxUrl },
  };
}

export async function openStores(config: Pick<CentralConfig, 'dataDir' | 'influxUrl' | 'databaseUrl'>): Promise<{ store: StateStore; series: SeriesStore }> {
  const specs = storeSpecs(config);
  const store = await openStateStore(specs.state);
  return { store, series: openSeriesStore(specs.series) };
}

export async function startCentral(config: CentralConfig, logger: Logger, opts: { onFatal?: () => void } = {}): Promise<Central> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const specs = storeSpecs(config);
  if (specs.state.kind !== 'sqlite') {
    // The one-shot commands (apikey, gateway, feed create) work on PostgreSQL already.
    throw new Error('pledgewatch start: webhook deliveries have no PostgreSQL adapter yet, so the central side needs SQLite state (unset PW_DATABASE_URL)');
  }
  const store = await openStateStore(specs.state);
  const webhooks = openWebhookStore(specs.state);
  const service = { username: 'pw-ingest', password: randomBytes(24).toString('base64url') };
  let broker: EmbeddedBroker | undefined;
  if (config.mqttUrl === undefined) {
    broker = await startEmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, store, logger, registry, service });
  }
  const mqttUrl = config.mqttUrl ?? (broker as EmbeddedBroker).url;
  const ingest = await startIngestWorker({
    ...specs,
    mqtt: {
      url: mqttUrl,
      // An external broker's ingest account names the session (Mosquitto: use_username_as_clientid).
      clientId: serviceClientId(config.mqttUrl),
      ...(broker === undefined ? {} : service),
      topics: [topics.allEvents, topics.allStatus, topics.allPrices],
    },
    logLevel: config.logLevel,
    webhooks: { allow: allowList(config.webhookAllow) },
    rules: {
      confirmationDelayS: config.alertConfirmationDelayS,
      holdS: config.alertHoldS,
      damageHoldS: config.damageHoldS,
      heartbeatIntervalS: config.gatewayHeartbeatS,
    },
    logger,
    onExit: () => opts.onFatal?.(),
  });
  const app = buildApp({
    store,
    logger,
    registry,
    maxPriceAgeMs: config.maxPriceAgeS * 1000,
    ready: () => Promise.resolve(ingest.isConnected() ? null : 'ingest is not connected to the MQTT broker'),
    webhooks: { store: webhooks, guard: new AddressGuard({ allow: allowList(config.webhookAllow) }) },
    metrics: async () => AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), await ingest.metrics()]).metrics(),
  });
  const { url: apiUrl } = await startApi(app, { host: config.httpHost, port: config.httpPort });
  logger.info(
    { apiUrl, mqttUrl: redactUrl(mqttUrl), series: specs.series.kind, dataDir: config.dataDir },
    'PledgeWatch central side running',
  );

  return {
    apiUrl,
    mqttUrl,
    store,
    async stop() {
      await app.close();
      await ingest.stop();
      await broker?.close();
      await webhooks.close();
      await store.close();
      logger.info('central side stopped');
    },
  };
}

function serviceClientId(mqttUrl: string | undefined): string {
  const user = mqttUrl !== undefined && URL.canParse(mqttUrl) ? decodeURIComponent(new URL(mqttUrl).username) : '';
  return user === '' ? 'pw-ingest' : user;
}

function allowList(csv: string): string[] {
  return csv.split(',').map((e) => e.trim()).filter((e) => e !== '');
}
