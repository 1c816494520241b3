/**
 * The hot routes read from StateCache: repeated reads cost the store nothing but its change counters,
 * and every change — through this API, another connection, or another API process on one PostgreSQL —
 * shows in the very next answer, equal to an uncached valuation.
 */
import { isoTime, type TagState } from '@pledgewatch/common';
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { openPgState, openSqliteState, type ChangeKind, type ChangeVersions, type StateStore } from '@pledgewatch/store';
import { postgresAvailable, postgresForTests, type PostgresForTests } from '@pledgewatch/store/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, issueApiKey, liveValuation, startApi, type App } from '../src/index.ts';
import { addGateway, copperPrice, EPC, gatewayStatus, registration, seedState, startHarness, T0, type Harness } from './harness.ts';

const PL = 'PL-2026-0001';
const SITE = 'wh-shanghai-1';
const t0 = Date.parse(T0);

const tag = (n: number, over: Partial<TagState> = {}): TagState => ({
  epc: EPC(n), gatewayId: 'gw-1', siteId: SITE, zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0, ...over,
});
const allPresent = [1, 2, 3, 4].map((n) => tag(n));

/** A store whose method calls are counted by name. */
function counting(store: StateStore, calls: Map<string, number>): StateStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** The store with some of its change counters read lower, by `by()[kind]`. */
function setBack(store: StateStore, by: () => Partial<ChangeVersions>): StateStore {
  return Object.assign(Object.create(store) as StateStore, {
    changeVersions: async () => {
      const v = await store.changeVersions();
      return Object.fromEntries(Object.entries(v).map(([k, n]) => [k, n - (by()[k as ChangeKind] ?? 0)])) as ChangeVersions;
    },
  });
}

describe('StateCache behind GET /v1/pledges/{id}/value', () => {
  let dir: TempDir;
  let h: Harness;
  let key: string;
  const calls = new Map<string, number>();

  /** How far the counters the API reads are set back (a database restored under it). */
  let back: Partial<ChangeVersions> = {};

  beforeEach(async () => {
    back = {};
    dir = tempDir('pw-api-cache-');
    h = await startHarness({ dir: dir.path, wrapStore: (s) => counting(setBack(s, () => back), calls) });
    await addGateway(h.store, 'gw-1', SITE);
    key = await h.keyFor('bank-a');
    expect((await h.call('POST', '/v1/pledges', { key, body: registration() })).status).toBe(201);
    await seedState(h.store, allPresent, [{ gatewayId: 'gw-1', readerId: 'r1', connected: true, at: T0 }]);
    await h.store.putPrice(copperPrice(8000, T0));
  });
  afterEach(async () => h.close());

  /** GET …/value, checked against a valuation computed without any cache from the same store. */
  async function value(): Promise<Record<string, unknown>> {
    const res = await h.call('GET', `/v1/pledges/${PL}/value`, { key });
    expect(res.status).toBe(200);
    const pledge = await h.store.getPledge('bank-a', PL);
    if (pledge === null) throw new Error('pledge vanished');
    expect(res.json).toEqual(JSON.parse(JSON.stringify(await liveValuation(h.store, pledge, h.clock.now()))));
    return res.json;
  }
  const later = (ms: number) => {
    h.clock.advance(ms);
    return isoTime(h.clock.now());
  };

  it('answers repeated reads from memory: the store is asked only for its change counters', async () => {
    await value();
    calls.clear();
    for (let i = 0; i < 5; i++) await value();
    expect(Object.fromEntries(calls)).toEqual({ changeVersions: 5 });
    const metrics = await h.registry.getSingleMetricAsString('pledgewatch_api_cache_lookups_total');
    expect(metrics).toMatch(/cache="quantities",result="hit"} [5-9]/);
  });

  it('shows each change at once: price, tag gone, reader and gateway down, release, loan, status, FX', async () => {
    expect(await value()).toMatchObject({ quantity: { present: 10 }, marketValue: 80_000 });

    expect((await h.call('POST', '/v1/prices', { key, body: copperPrice(7000, later(1_000)) })).status).toBe(201);
    expect(await value()).toMatchObject({ marketValue: 70_000 });

    await seedState(h.store, [tag(4, { present: false })]);
    expect(await value()).toMatchObject({ quantity: { present: 7.5, missing: 2.5 } });

    await seedState(h.store, [], [{ gatewayId: 'gw-1', readerId: 'r1', connected: false, at: later(1_000) }]);
    expect(await value()).toMatchObject({ quantity: { present: 0, unknown: 7.5 } });
    await seedState(h.store, [], [{ gatewayId: 'gw-1', readerId: 'r1', connected: true, at: later(1_000) }]);
    await h.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', false, later(1_000)), isoTime(h.clock.now()));
    expect(await value()).toMatchObject({ quantity: { present: 0, unknown: 7.5 } });
    await h.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', true, later(1_000)), isoTime(h.clock.now()));
    expect(await value()).toMatchObject({ quantity: { present: 7.5 } });

    expect((await h.call('POST', `/v1/pledges/${PL}/releases`, { key, body: { epcs: [EPC(3)], reason: 'sold' } })).status).toBe(201);
    const released = await value();
    expect(released).toMatchObject({ quantity: { pledged: 7.5, present: 5, missing: 2.5 } });

    // A loan that puts the LTV just under warnLtv (0.65), inside the hysteresis band: ok for a fresh
    // pledge, warning for one ingest published at warning.
    const outstanding = Math.round((released.eligibleValue as number) * 0.645 * 100) / 100;
    expect((await h.call('PATCH', `/v1/pledges/${PL}/loan`, { key, body: { outstanding } })).status).toBe(200);
    expect(await value()).toMatchObject({ outstanding, status: 'ok' });
    await h.store.setPledgeStatus(PL, 'warning');
    expect(await value()).toMatchObject({ status: 'warning' });

    const eur = { ...copperPrice(6500, later(1_000)), currency: 'EUR' };
    expect((await h.call('POST', '/v1/prices', { key, body: eur })).status).toBe(201);
    expect(await value()).toMatchObject({ eligibleValue: 0, issues: ['no FX rate EUR→USD'] });
    expect((await h.call('POST', '/v1/fx', { key, body: { base: 'EUR', quote: 'USD', rate: 1.1, at: later(1_000), source: 'ECB' } })).status).toBe(201);
    expect(await value()).toMatchObject({ marketValue: 35_750, issues: [] });
  });

  it('turns the price stale when its maximum age passes, with nothing else changed', async () => {
    h.clock.advance(24 * 3_600_000 - 1_000 - (h.clock.now() - t0));
    expect(await value()).toMatchObject({ eligibleValue: 68_000, price: { stale: false } });
    expect(await value()).toMatchObject({ eligibleValue: 68_000, at: isoTime(h.clock.now()) });
    h.clock.advance(1_001);
    expect(await value()).toMatchObject({ eligibleValue: 0, ltv: null, status: 'liquidation', price: { stale: true } });
  });

  it('trusts nothing it kept when the counters go back, as after a restore or a failover', async () => {
    expect(await value()).toMatchObject({ marketValue: 80_000 });
    // The restored database has a newer price, but its price counter reads as the cache last saw it;
    // only another counter shows that this is not the database the cache knew.
    back = { prices: 1, tags: 5 };
    await h.store.putPrice(copperPrice(7000, later(1_000)));
    expect(await value()).toMatchObject({ marketValue: 70_000 });
  });

  it('shows what another connection to the same database wrote, as ingest’s worker thread does', async () => {
    await value();
    const other = openSqliteState({ path: dir.file('state.db') });
    try {
      await other.putPrice(copperPrice(9000, later(1_000)));
      expect(await value()).toMatchObject({ marketValue: 90_000 });
      await other.checkpoint({ tags: [tag(1, { zone: 'B9' })], readers: [], batches: [] });
      expect(await value()).toMatchObject({ quantity: { present: 7.5, relocated: 2.5 } });
      await other.updatePledgeLoan('bank-a', PL, 1_000, isoTime(h.clock.now()));
      expect(await value()).toMatchObject({ outstanding: 1_000 });
    } finally {
      await other.close();
    }
  });

  it('keeps a key’s tenant, and refuses an unknown key, through the cache', async () => {
    await value();
    const unknown = await h.call('GET', `/v1/pledges/${PL}/value`, { key: `pw_${'x'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    // Refusals carry the request id like answers do.
    expect(unknown.headers.get('x-request-id')).toBe(unknown.json.requestId);
    const other = await h.keyFor('bank-b');
    expect((await h.call('GET', `/v1/pledges/${PL}/value`, { key: other })).status).toBe(404);
    expect((await h.call('GET', `/v1/pledges/${PL}/value`, { key })).status).toBe(200);
  });
});

describe.skipIf(!postgresAvailable.ok)(suiteTitle('StateCache: two API processes on one PostgreSQL', postgresAvailable), () => {
  let server: PostgresForTests;
  const open: { store: StateStore; app: App; url: string }[] = [];

  beforeAll(async () => {
    server = await postgresForTests();
  }, 60_000);
  afterAll(async () => server.close());
  afterEach(async () => {
    for (const { app, store } of open.splice(0)) {
      await app.close();
      await store.close();
    }
  });

  async function apiOn(url: string): Promise<{ store: StateStore; url: string }> {
    const store = await openPgState({ url, poolSize: 4 });
    const app = buildApp({ store, logger: pino({ level: 'warn' }), registry: new Registry() });
    const started = { store, app, url: (await startApi(app, { host: '127.0.0.1', port: 0 })).url };
    open.push(started);
    return started;
  }

  it('a change made through one shows in the other’s next answer', async () => {
    const db = await server.createDatabase();
    const [a, b] = [await apiOn(db), await apiOn(db)];
    await addGateway(a.store, 'gw-1', SITE);
    const key = (await issueApiKey(a.store, 'bank-a', t0)).key;
    const call = async (api: { url: string }, method: string, path: string, body?: unknown) => {
      const res = await fetch(api.url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const now = isoTime(Date.now());
    expect((await call(b, 'POST', '/v1/pledges', registration())).status).toBe(201);
    await seedState(b.store, allPresent.map((t) => ({ ...t, lastSeenAt: now, updatedAt: now })));
    await call(b, 'POST', '/v1/prices', copperPrice(8000, now));
    expect((await call(a, 'GET', `/v1/pledges/${PL}/value`)).json).toMatchObject({ marketValue: 80_000, outstanding: 20_000 });

    expect((await call(b, 'PATCH', `/v1/pledges/${PL}/loan`, { outstanding: 15_000 })).status).toBe(200);
    await call(b, 'POST', '/v1/prices', copperPrice(7000, isoTime(Date.now() + 1)));
    await seedState(b.store, [{ ...tag(2), present: false }]);
    expect((await call(a, 'GET', `/v1/pledges/${PL}/value`)).json).toMatchObject({
      quantity: { present: 7.5, missing: 2.5 },
      marketValue: 52_500,
      outstanding: 15_000,
    });
  });
});
