/** A real monitor-api on a real SQLite file, listening on a free port, with a fake clock. */
import { FakeClock, type AlertRecord, type GatewayStatusMessage, type PledgeRegistrationBody, type ReaderHealth, type TagState } from '@pledgewatch/common';
import { openSqliteState, type StateStore } from '@pledgewatch/store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApp, issueApiKey, loadOrCreateSigningKey, startApi, type App, type AppOptions } from '../src/index.ts';

export const T0 = '2026-03-01T08:00:00.000Z';

export interface Harness {
  url: string;
  app: App;
  store: StateStore;
  clock: FakeClock;
  registry: Registry;
  /** Log lines the app wrote (info and above), parsed. */
  logs: Record<string, unknown>[];
  /** A fresh API key for the tenant. */
  keyFor(tenant: string): Promise<string>;
  call(method: string, path: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  /** The media type, without parameters. */
  type: string;
  headers: Headers;
  text: string;
  /** The parsed body ({} when not JSON); tests narrow it where they reach inside. */
  json: Record<string, unknown>;
}

export async function startHarness(
  opts: Partial<Pick<AppOptions, 'ready' | 'maxPriceAgeMs' | 'maxPriceAgeByCommodityMs' | 'bodyLimit' | 'webhooks' | 'stream' | 'series'>> & { wrapStore?: (s: StateStore) => StateStore; dir?: string } = {},
): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pw-api-'));
  const store = openSqliteState({ path: join(dir, 'state.db') });
  const clock = new FakeClock(T0);
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  // Logs are kept for the tests to read; PW_TEST_LOG=debug shows them instead, when chasing a failure.
  const logger =
    process.env.PW_TEST_LOG === undefined
      ? pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
      : pino({ level: process.env.PW_TEST_LOG });
  const app = buildApp({
    store: opts.wrapStore ? opts.wrapStore(store) : store,
    clock,
    logger,
    registry,
    ready: opts.ready,
    maxPriceAgeMs: opts.maxPriceAgeMs,
    maxPriceAgeByCommodityMs: opts.maxPriceAgeByCommodityMs,
    bodyLimit: opts.bodyLimit,
    webhooks: opts.webhooks,
    stream: opts.stream,
    series: opts.series,
    signingKey: loadOrCreateSigningKey(join(dir, 'signing-key.pem')).key,
  });
  const { url } = await startApi(app, { host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    store,
    clock,
    registry,
    logs,
    keyFor: async (tenant) => (await issueApiKey(store, tenant, clock.now())).key,
    call: async (method, path, { key, body, headers = {} } = {}) => {
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
      return { status: res.status, type, headers: res.headers, text, json: type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A harness with a gateway at the test site and API keys of two tenants, bank-a (`key`) and bank-b
 * (`other`): where tenant-isolation suites start.
 */
export async function startWithTenants(site = 'wh-shanghai-1'): Promise<{ h: Harness; key: string; other: string }> {
  const h = await startHarness();
  await addGateway(h.store, 'gw-1', site);
  return { h, key: await h.keyFor('bank-a'), other: await h.keyFor('bank-b') };
}

/** Writes tag and reader state the way ingest does after applying uplink batches. */
export async function seedState(store: StateStore, tags: TagState[], readers: ReaderHealth[] = []): Promise<void> {
  await store.checkpoint({ tags, readers, batches: [] });
}

/** Registers a gateway at a site (what `pledgewatch gateway create` does) and marks it online. */
export async function addGateway(store: StateStore, id: string, siteId: string, online = true): Promise<void> {
  await store.createMqttAccount({ id, kind: 'gateway', siteId, passwordHash: 'unused', createdAt: T0 });
  await store.recordGatewayStatus(id, gatewayStatus(id, online), T0);
}

export function gatewayStatus(gatewayId: string, online: boolean, at = T0): GatewayStatusMessage {
  return {
    v: 1,
    gatewayId,
    online,
    at,
    agentVersion: '0.3.1',
    readers: [{ readerId: 'r1', connected: true, lastReadAt: at }],
    outbox: { depth: 7, dropped: 1 },
  };
}

export const EPC = (n: number): string => `3034257BF7194E40000${n.toString(16).toUpperCase().padStart(5, '0')}`;

export function registration(over: Partial<PledgeRegistrationBody> = {}): PledgeRegistrationBody {
  return {
    id: 'PL-2026-0001',
    borrower: 'Acme Metals',
    siteId: 'wh-shanghai-1',
    zones: ['A1', 'A2'],
    commodity: 'copper-cathode',
    unit: 't',
    items: [1, 2, 3, 4].map((n) => ({ epc: EPC(n).toLowerCase(), quantity: 2.5 })),
    loan: { outstanding: 20_000, currency: 'USD' },
    haircut: 0.15,
    limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
    ...over,
  };
}

export function copperPrice(price: number, at: string) {
  return { commodity: 'copper-cathode', price, currency: 'USD', unit: 't', at, source: 'test-feed' };
}

/** The `items` of a list response. */
export function itemsOf<T = Record<string, unknown>>(reply: Reply): T[] {
  return reply.json.items as T[];
}

/** A stored alert of bank-a's PL-2026-0001 (a quantity loss), with the given fields changed. */
export function alertRecord(over: Partial<AlertRecord> & { id: string }): AlertRecord {
  return {
    tenant: 'bank-a',
    pledgeId: 'PL-2026-0001',
    type: 'QUANTITY_LOSS',
    subject: 'quantity',
    severity: 'warning',
    status: 'open',
    openedAt: T0,
    updatedAt: T0,
    summary: '2.5 t of 10 t missing (25 %)',
    evidence: [{ kind: 'missing-tags', at: T0, total: 1, tags: [{ epc: EPC(4), quantity: 2.5, zone: 'A1', readerId: 'r1', lastSeenAt: T0 }] }],
    occurrences: 1,
    lastSeenAt: T0,
    latched: false,
    ...over,
  };
}
