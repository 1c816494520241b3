/** A real central broker + ingest on port 0 with real SQLite stores, for ingest's tests. */
import { type Pledge, INGEST_TOPICS } from '@pledgewatch/common';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { openSqliteSeries, openSqliteState, type SeriesStore, type StateStore } from '@pledgewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createIngest, hashPassword, mqttConnection, startEmbeddedBroker, type EmbeddedBroker, type Ingest } from '../src/index.ts';

export interface Harness {
  dir: TempDir;
  store: StateStore;
  series: SeriesStore;
  broker: EmbeddedBroker;
  ingest: Ingest;
  registry: Registry;
  service: { username: string; password: string };
  connect(username: string, password: string, opts?: mqtt.IClientOptions): Promise<MqttClient>;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startHarness(opts: { checkpointMs?: number } = {}): Promise<Harness> {
  const dir = tempDir('pw-ingest-');
  const store = openSqliteState({ path: dir.file('state.db') });
  const series = openSqliteSeries({ path: dir.file('series.db') });
  const registry = new Registry();
  const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
  const service = { username: 'pw-ingest', password: 'service-secret' };
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry, service });
  const ingest = createIngest({
    store,
    series,
    logger,
    registry,
    pledgeRefreshMs: 100,
    checkpointMs: 50,
    ...opts,
    connection: mqttConnection({
      url: broker.url,
      clientId: 'pw-ingest',
      ...service,
      topics: [...INGEST_TOPICS],
      logger,
    }),
  });
  await ingest.start();
  const clients: MqttClient[] = [];
  return {
    dir,
    store,
    series,
    broker,
    ingest,
    registry,
    service,
    async connect(username, password, opts = {}) {
      const client = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0, ...opts });
      clients.push(client);
      return client;
    },
    async counter(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) return 0;
      const { values } = await metric.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      for (const c of clients) await c.endAsync(true);
      await ingest.stop();
      await broker.close();
      await series.close();
      await store.close();
      dir.remove();
    },
  };
}

export async function addGateway(store: StateStore, id: string, siteId: string, password: string): Promise<void> {
  await store.createMqttAccount({ id, kind: 'gateway', siteId, passwordHash: await hashPassword(password), createdAt: new Date().toISOString() });
}

export function epc(n: number): string {
  return `3034257BF7194E40${n.toString(16).toUpperCase().padStart(8, '0')}`;
}

export function pledgeFixture(overrides: Partial<Pledge> = {}): Pledge {
  return {
    id: 'PL-1',
    tenant: 'bank-a',
    borrower: 'Acme Metals',
    siteId: 'site-1',
    zones: ['A1'],
    commodity: 'copper-cathode',
    unit: 't',
    items: [1, 2, 3, 4].map((n) => ({ epc: epc(n), quantity: 2.5 })),
    scales: [],
    loan: { outstanding: 50_000, currency: 'USD' },
    haircut: 0.15,
    limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
    quantityTolerance: 0.02,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export function batch(gatewayId: string, seq: number, events: unknown[]): string {
  return JSON.stringify({ v: 1, gatewayId, seq, sentAt: new Date().toISOString(), events });
}

export function arrived(n: number, zone = 'A1', readerId = 'r1', at = new Date().toISOString()) {
  return { type: 'tag.arrived', at, epc: epc(n), zone, readerId, antenna: 1, rssi: -55 };
}
