/**
 * The composition root of the central side: stores, broker, ingest and API in one process on the
 * embedded defaults (or an external broker with PW_MQTT_URL). Adapters are chosen here and nowhere else.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { topics } from '@pledgewatch/common';
import { createIngest, mqttConnection, startEmbeddedBroker, type EmbeddedBroker } from '@pledgewatch/ingest';
import { buildApp, startApi } from '@pledgewatch/monitor-api';
import { openSqliteSeries, openSqliteState, type SeriesStore, type StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { CentralConfig } from './config.ts';

export interface Central {
  apiUrl: string;
  mqttUrl: string;
  store: StateStore;
  /** Drains in order: stop taking HTTP requests, finish the MQTT message in hand, flush series, close stores. */
  stop(): Promise<void>;
}

export function openStores(config: Pick<CentralConfig, 'dataDir'>): { store: StateStore; series: SeriesStore } {
  mkdirSync(config.dataDir, { recursive: true });
  return {
    store: openSqliteState({ path: join(config.dataDir, 'state.db') }),
    series: openSqliteSeries({ path: join(config.dataDir, 'series.db') }),
  };
}

export async function startCentral(config: CentralConfig, logger: Logger): Promise<Central> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { store, series } = openStores(config);
  const service = { username: 'pw-ingest', password: randomBytes(24).toString('base64url') };
  let broker: EmbeddedBroker | undefined;
  if (config.mqttUrl === undefined) {
    broker = await startEmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, store, logger, registry, service });
  }
  const mqttUrl = config.mqttUrl ?? (broker as EmbeddedBroker).url;
  const ingest = createIngest({
    store,
    series,
    logger,
    registry,
    connection: mqttConnection({
      url: mqttUrl,
      clientId: 'pw-ingest',
      ...(broker === undefined ? {} : service),
      topics: [topics.allEvents, topics.allStatus, topics.allPrices],
      logger,
    }),
  });
  await ingest.start();
  const app = buildApp({
    store,
    logger,
    registry,
    maxPriceAgeMs: config.maxPriceAgeS * 1000,
    ready: () => Promise.resolve(ingest.isConnected() ? null : 'not connected to the MQTT broker'),
  });
  const { url: apiUrl } = await startApi(app, { host: config.httpHost, port: config.httpPort });
  logger.info({ apiUrl, mqttUrl, dataDir: config.dataDir }, 'PledgeWatch central side running');

  return {
    apiUrl,
    mqttUrl,
    store,
    async stop() {
      await app.close();
      await ingest.stop();
      await broker?.close();
      await series.close();
      await store.close();
      logger.info('central side stopped');
    },
  };
}
