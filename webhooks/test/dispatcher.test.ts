import { FakeClock } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import { openPgWebhooks, openSqliteWebhooks, type WebhookEndpoint, type WebhookStore } from '@pledgewatch/store';
import { postgresAvailable, postgresForTests, type PostgresForTests } from '@pledgewatch/store/testing';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AddressGuard, Dispatcher, generateSecret, type OutboxEvent } from '../src/index.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let dir: TempDir;
let store: WebhookStore;
let receiver: Receiver;
let events: OutboxEvent[];
let dispatcher: Dispatcher | undefined;
const T0 = Date.parse('2026-11-28T12:00:00.000Z');

const feed = { eventsAfter: (seq: number, limit: number) => Promise.resolve(events.filter((e) => e.seq > seq).slice(0, limit)) };

function event(n: number, over: Partial<OutboxEvent> = {}): OutboxEvent {
  return { seq: n, id: `evt_${n}`, tenant: 'bank-a', type: 'alert.opened', pledgeId: 'PL-1', data: { n }, createdAt: new Date(T0 + n).toISOString(), ...over };
}

async function endpoint(path: string, over: Partial<WebhookEndpoint> = {}): Promise<WebhookEndpoint> {
  const e: WebhookEndpoint = {
    id: `wh_${path.replace(/\W/g, '')}`, tenant: 'bank-a', url: receiver.url(path), events: [], secrets: [{ secret: generateSecret(), expiresAt: null }],
    status: 'active', disabledReason: null, createdAt: new Date(T0 - 1000).toISOString(), ...over,
  };
  await store.createEndpoint(e);
  return e;
}

function start(clock: FakeClock | undefined, opts: { timeoutMs?: number; concurrencyPerEndpoint?: number } = {}): Dispatcher {
  dispatcher = new Dispatcher({
    store, feed, guard: new AddressGuard({ allow: ['127.0.0.1'] }), logger: pino({ level: 'silent' }), registry: new Registry(),
    ...(clock === undefined ? {} : { clock }), random: () => 0.5, pollMs: 20, ...opts,
  });
  dispatcher.start();
  return dispatcher;
}

const deliveriesTo = (path: string) => receiver.received.filter((r) => r.path === path);

/**
 * The same behaviour on both adapters. `another` opens a second connection to the same data: a second
 * dispatcher process, as several `pledgewatch start` processes on one PostgreSQL database have.
 */
interface Adapter {
  name: string;
  available: typeof postgresAvailable;
  open(): Promise<{ store: WebhookStore; another: () => Promise<WebhookStore> }>;
}

let postgres: Promise<PostgresForTests> | undefined;
afterAll(async () => {
  await (await postgres)?.close();
});

const adapters: Adapter[] = [
  {
    name: 'SQLite',
    available: { ok: true },
    open: () => {
      const path = dir.file('state.db');
      return Promise.resolve({ store: openSqliteWebhooks({ path }), another: () => Promise.resolve(openSqliteWebhooks({ path })) });
    },
  },
  {
    name: 'PostgreSQL',
    available: postgresAvailable,
    open: async () => {
      postgres ??= postgresForTests();
      const url = await (await postgres).createDatabase();
      return { store: await openPgWebhooks({ url, poolSize: 4 }), another: () => openPgWebhooks({ url, poolSize: 4 }) };
    },
  },
];

for (const adapter of adapters) {
  describe.skipIf(!adapter.available.ok)(suiteTitle(`webhook dispatcher on ${adapter.name}`, adapter.available), () => {
    let another: () => Promise<WebhookStore>;
    const others: { dispatcher: Dispatcher; store: WebhookStore }[] = [];
    beforeEach(async () => {
      dir = tempDir('pw-webhooks-');
      ({ store, another } = await adapter.open());
      receiver = await startReceiver();
      events = [];
      dispatcher = undefined;
    }, 60_000);
    afterEach(async () => {
      await dispatcher?.stop();
      for (const o of others.splice(0)) {
        await o.dispatcher.stop();
        await o.store.close();
      }
      await receiver.close();
      await store.close();
      dir.remove();
    });

    it('delivers signed events that a Standard Webhooks receiver verifies', async () => {
      const ep = await endpoint('/a');
      events.push(event(1));
      start(undefined);
      const [got] = await waitFor('a delivery', () => deliveriesTo('/a').length === 1 && deliveriesTo('/a'));
      const verified = new Webhook(ep.secrets[0]?.secret ?? '').verify(got?.body ?? '', got?.headers as Record<string, string>);
      expect(verified).toMatchObject({ type: 'alert.opened', data: { n: 1 } });
      expect(got?.headers['webhook-id']).toBe('evt_1');
      const [log] = await waitFor('recorded as delivered', async () => {
        const list = await store.listDeliveries('bank-a', ep.id, 10);
        return list[0]?.status === 'delivered' && list;
      });
      expect(log?.attemptLog).toHaveLength(1);
    });

    it('retries on the schedule with the same webhook-id until the receiver is back', async () => {
      const clock = new FakeClock(T0);
      const ep = await endpoint('/down');
      receiver.script('/down', [{ status: 503 }, { status: 500 }, { status: 502 }]);
      events.push(event(1));
      start(clock);
      await waitFor('first attempt', () => deliveriesTo('/down').length === 1);
      for (const [wait, n] of [[5_000, 2], [300_000, 3], [1_800_000, 4]] as const) {
        await waitFor('attempt recorded', async () => (await store.listDeliveries('bank-a', ep.id, 1))[0]?.attempts === n - 1);
        clock.advance(wait - 1);
        await new Promise((r) => setTimeout(r, 50));
        expect(deliveriesTo('/down')).toHaveLength(n - 1); // not before its time
        clock.advance(1);
        await waitFor(`attempt ${n}`, () => deliveriesTo('/down').length === n);
      }
      const [d] = await waitFor('delivered', async () => {
        const list = await store.listDeliveries('bank-a', ep.id, 1);
        return list[0]?.status === 'delivered' && list;
      });
      expect(d?.attemptLog.map((a) => a.statusCode)).toEqual([503, 500, 502, 200]);
      expect(new Set(deliveriesTo('/down').map((r) => r.headers['webhook-id']))).toEqual(new Set(['evt_1']));
    });

    it('honours Retry-After on 429', async () => {
      const clock = new FakeClock(T0);
      await endpoint('/busy');
      receiver.script('/busy', [{ status: 429, headers: { 'retry-after': '600' } }]);
      events.push(event(1));
      start(clock);
      await waitFor('first attempt', () => deliveriesTo('/busy').length === 1);
      clock.advance(5_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(deliveriesTo('/busy')).toHaveLength(1);
      clock.advance(595_000);
      await waitFor('retried after Retry-After', () => deliveriesTo('/busy').length === 2);
    });

    it('disables an endpoint that answers 410 and fails its pending deliveries', async () => {
      const ep = await endpoint('/gone');
      receiver.script('/gone', [{ status: 410 }]);
      events.push(event(1, { pledgeId: 'PL-1' }), event(2, { pledgeId: 'PL-2' }));
      start(undefined, { concurrencyPerEndpoint: 1 });
      await waitFor('disabled', async () => (await store.getEndpoint('bank-a', ep.id))?.status === 'disabled');
      const list = await waitFor('both failed', async () => {
        const l = await store.listDeliveries('bank-a', ep.id, 10);
        return l.every((d) => d.status === 'failed') && l;
      });
      expect(list).toHaveLength(2);
      expect(deliveriesTo('/gone')).toHaveLength(1);
    });

    it('marks a delivery failed after the whole schedule, and replays it on request', async () => {
      const clock = new FakeClock(T0);
      const ep = await endpoint('/never');
      receiver.script('/never', Array.from({ length: 10 }, () => ({ status: 500 })));
      events.push(event(1));
      start(clock);
      for (let n = 1; n <= 10; n++) {
        await waitFor(`attempt ${n}`, async () => (await store.listDeliveries('bank-a', ep.id, 1))[0]?.attempts === n);
        // Only once the dispatcher has a timer set: a fake timer set after the advance would wait for
        // the next one. Checked and advanced in one go, so the timer cannot be replaced in between.
        await waitFor('the dispatcher asleep', () => clock.pending() > 0 && (clock.advance(90_000_000), true));
      }
      const [failed] = await store.listDeliveries('bank-a', ep.id, 1);
      expect(failed?.status).toBe('failed');
      expect(await store.redeliver('bank-a', ep.id, failed?.id ?? '', clock.now())).toBe(true);
      dispatcher?.notify();
      await waitFor('replayed and delivered', async () => (await store.listDeliveries('bank-a', ep.id, 1))[0]?.status === 'delivered');
      expect(await store.redeliver('bank-b', ep.id, failed?.id ?? '', clock.now())).toBe(false);
    });

    it('keeps events of one pledge in order while a slow endpoint holds up only itself', async () => {
      await endpoint('/slow');
      await endpoint('/fast');
      receiver.script('/slow', ['hang', 'hang']);
      events.push(event(1), event(2), event(3, { pledgeId: 'PL-2' }));
      start(undefined, { timeoutMs: 300 });
      await waitFor('fast got all three', () => deliveriesTo('/fast').length === 3);
      const fastOrder = deliveriesTo('/fast').map((r) => r.headers['webhook-id']);
      expect(fastOrder.indexOf('evt_2')).toBeGreaterThan(fastOrder.indexOf('evt_1'));
      await waitFor('slow got all after its retries', () => new Set(deliveriesTo('/slow').map((r) => r.headers['webhook-id'])).size === 3, 20_000);
      const slowOrder = deliveriesTo('/slow').map((r) => r.headers['webhook-id']);
      // evt_2 (same pledge as evt_1) never went before evt_1 was delivered; evt_3 (another pledge) did not wait.
      expect(slowOrder.indexOf('evt_2')).toBeGreaterThan(slowOrder.lastIndexOf('evt_1'));
      expect(slowOrder.indexOf('evt_3')).toBeLessThan(slowOrder.lastIndexOf('evt_1'));
    });

    it('delivers thousands of events across endpoints, each pledge in order, only to its tenant', async () => {
      const paths = ['/e1', '/e2', '/e3'];
      for (const p of paths) await endpoint(p);
      await endpoint('/other', { tenant: 'bank-b' });
      await endpoint('/filtered', { events: ['alert.resolved'] });
      for (let n = 1; n <= 2000; n++) events.push(event(n, { pledgeId: `PL-${n % 7}`, type: n % 10 === 0 ? 'alert.resolved' : 'alert.opened' }));
      start(undefined);
      await waitFor('all delivered', () => paths.every((p) => deliveriesTo(p).length >= 2000), 60_000);
      for (const p of paths) {
        const seen = deliveriesTo(p).map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n);
        expect(new Set(seen).size).toBe(2000);
        for (let k = 0; k < 7; k++) {
          const ofPledge = seen.filter((n) => n % 7 === k);
          expect(ofPledge).toEqual([...ofPledge].sort((a, b) => a - b));
        }
      }
      expect(deliveriesTo('/other')).toHaveLength(0);
      await waitFor('filtered endpoint got only its type', () => deliveriesTo('/filtered').length === 200);
    });

    it('picks up a delivery whose dispatcher died mid-attempt, with the same webhook-id', async () => {
      const clock = new FakeClock(T0);
      await endpoint('/crash');
      receiver.script('/crash', ['hang']);
      events.push(event(1));
      const first = start(clock, { timeoutMs: 60_000 });
      await waitFor('first attempt in flight', () => deliveriesTo('/crash').length === 1);
      // The process dies: nothing recorded, the lease is all that is left.
      void first.stop();
      dispatcher = undefined;
      clock.advance(120_001);
      start(clock);
      await waitFor('redelivered after the lease expired', () => deliveriesTo('/crash').length === 2);
      expect(deliveriesTo('/crash').map((r) => r.headers['webhook-id'])).toEqual(['evt_1', 'evt_1']);
    });
    it('delivers each event once and each pledge in order with two dispatchers on one store', async () => {
      const paths = ['/m1', '/m2'];
      for (const p of paths) await endpoint(p);
      for (let n = 1; n <= 600; n++) events.push(event(n, { pledgeId: `PL-${n % 5}` }));
      // Two processes, neither alone: no lease is ended at start, each claims what the other has not.
      const secondStore = await another();
      const second = new Dispatcher({
        store: secondStore, feed, guard: new AddressGuard({ allow: ['127.0.0.1'] }), logger: pino({ level: 'silent' }), registry: new Registry(),
        random: () => 0.5, pollMs: 20, exclusive: false,
      });
      others.push({ dispatcher: second, store: secondStore });
      start(undefined, { concurrencyPerEndpoint: 2 });
      second.start();
      await waitFor('all delivered', () => paths.every((p) => deliveriesTo(p).length >= 600), 60_000);
      for (const p of paths) {
        const seen = deliveriesTo(p).map((r) => (JSON.parse(r.body) as { data: { n: number } }).data.n);
        expect(seen).toHaveLength(600); // nothing sent twice: no lease expired, no delivery claimed twice
        expect(new Set(seen).size).toBe(600);
        for (let k = 0; k < 5; k++) {
          const ofPledge = seen.filter((n) => n % 5 === k);
          expect(ofPledge).toEqual([...ofPledge].sort((a, b) => a - b));
        }
      }
    });
  });
}
