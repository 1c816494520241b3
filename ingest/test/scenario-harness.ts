/**
 * Ingest on a fake clock, real SQLite files, fed through its real message handler by an in-process
 * connection: scenarios of hours run in milliseconds and every step is awaited, so tests are exact.
 */
import { FakeClock, isoTime, topics, type AlertRecord, type GatewayStatusMessage, type Pledge } from '@pledgewatch/common';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { openSqliteSeries, openSqliteState, type SeriesStore, type StateStore } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createIngest, type BrokerConnection, type Ingest, type MessageHandler } from '../src/index.ts';
import type { RuleSettingsT } from '../src/rules/config.ts';
import { epc, pledgeFixture } from './harness.ts';

export const T0 = '2026-03-01T08:00:00.000Z';

/** A connection that hands messages to ingest when the test says so. */
export class InProcessConnection implements BrokerConnection {
  private handler: MessageHandler | null = null;
  start(handler: MessageHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }
  isConnected(): boolean {
    return this.handler !== null;
  }
  close(): Promise<void> {
    this.handler = null;
    return Promise.resolve();
  }
  /** `more`: more messages follow in the same group, as the embedded broker's hand-over gives them. */
  deliver(topic: string, payload: string, more?: boolean): Promise<void> {
    if (this.handler === null) throw new Error('ingest is not started');
    return this.handler({ topic, payload: Buffer.from(payload) }, more);
  }
}

export interface Scenario {
  dir: TempDir;
  clock: FakeClock;
  store: StateStore;
  series: SeriesStore;
  ingest: Ingest;
  registry: Registry;
  connection: InProcessConnection;
  now(): string;
  /** Sends one batch from a gateway (seq counted per gateway unless given; `more`: a group follows, see deliver). */
  send(events: unknown[], opts?: { gatewayId?: string; seq?: number; more?: boolean }): Promise<void>;
  status(online: boolean, opts?: { gatewayId?: string; readers?: GatewayStatusMessage['readers'] }): Promise<void>;
  /**
   * Moves the fake clock in steps, running the rules' timers after each; plugged gateways send their
   * heartbeat status every 30 s on the way.
   */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Gateways whose heartbeats `advance` sends (all, at start). */
  plugged: Set<string>;
  /** The gateway loses power: its last will says offline and heartbeats stop. */
  unplug(gatewayId?: string): Promise<void>;
  plugIn(gatewayId?: string): Promise<void>;
  alerts(filter?: { type?: string; status?: 'open' | 'acknowledged' | 'resolved' }): Promise<AlertRecord[]>;
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  /** Stops ingest and starts a new one on the same files (a restart), after `downMs` of downtime. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ScenarioOptions {
  pledges?: Pledge[];
  rules?: RuleSettingsT;
  /** gateway id → site */
  gateways?: Record<string, string>;
  /** Ingest's onFatal (see createIngest). */
  onFatal?: (err: unknown) => void;
}

export async function startScenario(opts: ScenarioOptions = {}): Promise<Scenario> {
  const dir = tempDir('pw-scenario-');
  const clock = new FakeClock(T0);
  const store = openSqliteState({ path: dir.file('state.db') });
  const series = openSqliteSeries({ path: dir.file('series.db') });
  for (const [id, siteId] of Object.entries(opts.gateways ?? { 'gw-1': 'site-1' })) {
    await store.createMqttAccount({ id, kind: 'gateway', siteId, passwordHash: 'unused', createdAt: T0 });
  }
  for (const p of opts.pledges ?? [pledgeFixture({ createdAt: T0 })]) await store.createPledge(p);
  const seqs = new Map<string, number>();
  const gateways = Object.keys(opts.gateways ?? { 'gw-1': 'site-1' });
  let nextHeartbeat = Date.parse(T0);
  let registry = new Registry();
  let connection = new InProcessConnection();
  const make = () =>
    createIngest({
      store,
      series,
      clock,
      connection,
      registry,
      logger: pino({ level: process.env.PW_TEST_LOG ?? 'silent' }),
      rules: opts.rules ?? {},
      // Timers far apart: the scenario runs the rules itself after every step.
      pledgeRefreshMs: 3_600_000,
      checkpointMs: 1_000,
      ...(opts.onFatal === undefined ? {} : { onFatal: opts.onFatal }),
    });
  let ingest = make();
  await ingest.start();
  const s: Scenario = {
    dir,
    clock,
    store,
    series,
    get ingest() {
      return ingest;
    },
    get registry() {
      return registry;
    },
    get connection() {
      return connection;
    },
    now: () => isoTime(clock.now()),
    async send(events, { gatewayId = 'gw-1', seq, more } = {}) {
      const n = seq ?? (seqs.get(gatewayId) ?? 0) + 1;
      seqs.set(gatewayId, Math.max(n, seqs.get(gatewayId) ?? 0));
      const body = { v: 1, gatewayId, seq: n, sentAt: s.now(), events };
      await connection.deliver(topics.events(gatewayId), JSON.stringify(body), more);
    },
    async status(online, { gatewayId = 'gw-1', readers } = {}) {
      const body: GatewayStatusMessage = { v: 1, gatewayId, online, at: s.now(), agentVersion: 'test', ...(readers === undefined ? {} : { readers }) };
      await connection.deliver(topics.status(gatewayId), JSON.stringify(body));
    },
    plugged: new Set(gateways),
    async unplug(gatewayId = 'gw-1') {
      s.plugged.delete(gatewayId);
      await s.status(false, { gatewayId });
    },
    async plugIn(gatewayId = 'gw-1') {
      s.plugged.add(gatewayId);
      await s.status(true, { gatewayId });
    },
    async advance(ms, stepMs = 1_000) {
      for (let done = 0; done < ms; done += stepMs) {
        clock.advance(Math.min(stepMs, ms - done));
        if (clock.now() >= nextHeartbeat) {
          for (const g of s.plugged) await s.status(true, { gatewayId: g });
          nextHeartbeat = clock.now() + 30_000;
        }
        await ingest.runRules();
      }
    },
    async alerts(filter = {}) {
      const all = await store.listAlerts('bank-a', { limit: 1000, ...(filter.status === undefined ? {} : { statuses: [filter.status] }) });
      return all.filter((a) => filter.type === undefined || a.type === filter.type);
    },
    async counter(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) return 0;
      const { values } = await metric.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async restart(downMs = 0) {
      await ingest.stop();
      clock.advance(downMs);
      nextHeartbeat = clock.now() + 30_000;
      registry = new Registry();
      connection = new InProcessConnection();
      ingest = make();
      await ingest.start();
    },
    async close() {
      await ingest.stop();
      await series.close();
      await store.close();
      dir.remove();
    },
  };
  for (const g of gateways) await s.status(true, { gatewayId: g });
  nextHeartbeat = clock.now() + 30_000;
  return s;
}

/** tag.arrived for items n of the fixture EPCs, at the scenario's now. */
export function arrivals(s: Scenario, ns: number[], zone = 'A1', readerId = 'r1') {
  return ns.map((n) => ({ type: 'tag.arrived', at: s.now(), epc: epc(n), zone, readerId }));
}

export function departures(s: Scenario, ns: number[], zone = 'A1', readerId = 'r1') {
  return ns.map((n) => ({ type: 'tag.departed', at: s.now(), epc: epc(n), zone, readerId, lastSeenAt: s.now() }));
}

/** A feed's price of `commodity` (copper-cathode) per t on MQTT, timed now unless `at` says otherwise. */
export function publishPrice(s: Scenario, price: number, opts: { commodity?: string; currency?: string; at?: string } = {}): Promise<void> {
  const commodity = opts.commodity ?? 'copper-cathode';
  const body = { commodity, price, currency: opts.currency ?? 'USD', unit: 't', at: opts.at ?? s.now(), source: 'LME 3M' };
  return s.connection.deliver(topics.price(commodity), JSON.stringify(body));
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A pledge of `count` tagged items of 1 t each (EPCs 1…count) in zone A1 at site-1. */
export function bigPledge(count: number, over: Partial<Pledge> = {}): Pledge {
  return pledgeFixture({ items: range(1, count).map((n) => ({ epc: epc(n), quantity: 1 })), createdAt: T0, ...over });
}
