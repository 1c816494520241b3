/**
 * The behaviour every WebhookStore adapter owes the dispatcher and the API. Run it against an adapter
 * with `describeWebhookStoreContract('postgres', open)`; each test gets a fresh, empty store from `open`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptRecord, NewDelivery, WebhookEndpoint, WebhookStore } from '../src/webhooks.ts';
import { at, T0 } from './fixtures.ts';

export interface WebhookContractOptions {
  /** Opens the data of the store the last `open()` returned, after the suite has closed that store. */
  reopen?: () => Promise<WebhookStore>;
}

export function webhookEndpoint(id: string, over: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id,
    tenant: 'bank-a',
    url: `https://risk.example.com/${id}`,
    events: [],
    secrets: [{ secret: `whsec_${id}`, expiresAt: null }],
    status: 'active',
    disabledReason: null,
    createdAt: at(0),
    ...over,
  };
}

/** Delivery n of event `evt_{n}` to endpoint `wh-1` of bank-a, in pledge PL-1's line unless told. */
export function newDelivery(n: number, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: `dlv_${n}`,
    endpointId: 'wh-1',
    tenant: 'bank-a',
    eventId: `evt_${n}`,
    eventType: 'alert.opened',
    orderingKey: 'PL-1',
    body: JSON.stringify({ type: 'alert.opened', data: { n } }),
    createdAt: at(n),
    ...over,
  };
}

const LEASE = 60_000;
const ids = (items: { id: string }[]) => items.map((d) => d.id);

function attempt(deliveryId: string, outcome: Pick<AttemptRecord, 'status' | 'nextAttemptAt'> & Partial<AttemptRecord>, statusCode: number | null = 200): AttemptRecord {
  return { deliveryId, attempt: { at: at(1), statusCode, latencyMs: 12, error: statusCode === null ? 'connection refused' : null }, ...outcome };
}

export function describeWebhookStoreContract(name: string, open: () => Promise<WebhookStore>, options: WebhookContractOptions = {}): void {
  describe(`WebhookStore contract: ${name}`, () => {
    let store: WebhookStore;
    let closed = false;
    beforeEach(async () => {
      store = await open();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });

    /** Endpoint wh-1 (and others) with deliveries 1..n fanned out at T0. */
    const seed = async (deliveries: NewDelivery[], endpoints: WebhookEndpoint[] = [webhookEndpoint('wh-1')]) => {
      for (const e of endpoints) await store.createEndpoint(e);
      await store.fanOut(deliveries, deliveries.length, T0);
    };

    it('names its kind', () => {
      expect(store.kind).toMatch(/\S/);
    });

    describe('endpoints', () => {
      it('keeps each tenant to its own endpoints, and lists every active one for fan-out', async () => {
        const a1 = webhookEndpoint('wh-1', { events: ['alert.opened'] });
        const a2 = webhookEndpoint('wh-2', { createdAt: at(5), status: 'disabled', disabledReason: '410 Gone' });
        const b1 = webhookEndpoint('wh-3', { tenant: 'bank-b', createdAt: at(1) });
        for (const e of [a2, b1, a1]) await store.createEndpoint(e);
        expect(await store.getEndpoint('bank-a', 'wh-1')).toEqual(a1);
        expect(await store.getEndpoint('bank-b', 'wh-1')).toBeNull();
        expect(await store.listEndpoints('bank-a')).toEqual([a1, a2]);
        expect(ids(await store.activeEndpoints())).toEqual(['wh-1', 'wh-3']);
      });

      it('replaces secrets, only for the endpoint’s tenant', async () => {
        await store.createEndpoint(webhookEndpoint('wh-1'));
        const secrets = [{ secret: 'whsec_new', expiresAt: null }, { secret: 'whsec_wh-1', expiresAt: T0 + 86_400_000 }];
        expect(await store.setSecrets('bank-b', 'wh-1', secrets)).toBe(false);
        expect(await store.setSecrets('bank-a', 'wh-1', secrets)).toBe(true);
        expect((await store.getEndpoint('bank-a', 'wh-1'))?.secrets).toEqual(secrets);
        expect(await store.setSecrets('bank-a', 'wh-9', secrets)).toBe(false);
      });

      it('deletes an endpoint and fails its pending deliveries, not its delivered ones', async () => {
        await seed([newDelivery(1), newDelivery(2, { orderingKey: 'PL-2' }), newDelivery(3, { endpointId: 'wh-2' })], [webhookEndpoint('wh-1'), webhookEndpoint('wh-2')]);
        await store.recordAttempt(attempt('dlv_1', { status: 'delivered', nextAttemptAt: null }), T0 + 10);
        expect(await store.deleteEndpoint('bank-b', 'wh-1')).toBe(false);
        expect(await store.deleteEndpoint('bank-a', 'wh-1')).toBe(true);
        expect(await store.deleteEndpoint('bank-a', 'wh-1')).toBe(false);
        expect(await store.getEndpoint('bank-a', 'wh-1')).toBeNull();
        const [d2, d1] = await store.listDeliveries('bank-a', 'wh-1', 10);
        expect(d1).toMatchObject({ id: 'dlv_1', status: 'delivered' });
        expect(d2).toMatchObject({ id: 'dlv_2', status: 'failed', lastError: 'endpoint deleted', nextAttemptAt: null });
        expect(ids(await store.claimDue(T0 + 20, LEASE, 10))).toEqual(['dlv_3']);
      });
    });

    describe('fan-out', () => {
      it('adds pending deliveries due at once and moves the cursor with them', async () => {
        expect(await store.fanOutCursor()).toBe(0);
        await seed([newDelivery(1), newDelivery(2)]);
        expect(await store.fanOutCursor()).toBe(2);
        const [d2, d1] = await store.listDeliveries('bank-a', 'wh-1', 10);
        expect(d1).toEqual({
          ...newDelivery(1),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: T0,
          lastStatus: null,
          lastError: null,
          updatedAt: at(1),
          attemptLog: [],
        });
        expect(d2?.id).toBe('dlv_2');
      });

      it('ignores a second delivery of one event to one endpoint', async () => {
        await seed([newDelivery(1)]);
        await store.fanOut([newDelivery(1, { id: 'dlv_again' }), newDelivery(2)], 5, T0);
        expect(ids(await store.listDeliveries('bank-a', 'wh-1', 10))).toEqual(['dlv_2', 'dlv_1']);
        expect(await store.fanOutCursor()).toBe(5);
      });

      it('does nothing for events the cursor has passed (another dispatcher fanned them out), and never moves it back', async () => {
        await seed([newDelivery(1), newDelivery(2)]);
        await store.fanOut([newDelivery(3)], 2, T0);
        await store.fanOut([newDelivery(4)], 1, T0);
        expect(await store.fanOutCursor()).toBe(2);
        expect(ids(await store.listDeliveries('bank-a', 'wh-1', 10))).toEqual(['dlv_2', 'dlv_1']);
        await store.fanOut([], 7, T0);
        expect(await store.fanOutCursor()).toBe(7);
      });
    });

    describe('claims', () => {
      it('hands out due deliveries in order, first in line per (endpoint, pledge), up to the limit', async () => {
        await seed(
          [newDelivery(1), newDelivery(2), newDelivery(3, { orderingKey: 'PL-2' }), newDelivery(4, { endpointId: 'wh-2' }), newDelivery(5, { orderingKey: 'PL-3' })],
          [webhookEndpoint('wh-1'), webhookEndpoint('wh-2')],
        );
        // dlv_2 waits behind dlv_1 (same endpoint and pledge); dlv_4 is the same pledge at another endpoint.
        expect(ids(await store.claimDue(T0, LEASE, 3))).toEqual(['dlv_1', 'dlv_3', 'dlv_4']);
        expect(ids(await store.claimDue(T0, LEASE, 10))).toEqual(['dlv_5']);
        expect(await store.claimDue(T0, LEASE, 10)).toEqual([]);
      });

      it('claims nothing before it is due', async () => {
        await seed([newDelivery(1)]);
        expect(await store.claimDue(T0 - 1, LEASE, 10)).toEqual([]);
        expect((await store.claimDue(T0, LEASE, 10))[0]).toMatchObject({ id: 'dlv_1', status: 'pending', attempts: 0, nextAttemptAt: T0 });
      });

      it('leaves a leased delivery alone until its lease expires, then hands it out again', async () => {
        await seed([newDelivery(1)]);
        expect(ids(await store.claimDue(T0, LEASE, 10))).toEqual(['dlv_1']);
        expect(await store.claimDue(T0 + LEASE - 1, LEASE, 10)).toEqual([]);
        expect(ids(await store.claimDue(T0 + LEASE, LEASE, 10))).toEqual(['dlv_1']);
      });

      it('never hands one delivery to two concurrent claims', async () => {
        const all = Array.from({ length: 60 }, (_, i) => newDelivery(i + 1, { orderingKey: `PL-${i}` }));
        await seed(all);
        const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimDue(T0, LEASE, 15)));
        const claimed = claims.flatMap(ids);
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(claimed.length).toBeLessThanOrEqual(60);
        const rest = await store.claimDue(T0, LEASE, 100);
        expect(new Set([...claimed, ...ids(rest)]).size).toBe(60);
      });

      it('ends every lease on request, for a dispatcher that knows it is alone', async () => {
        await seed([newDelivery(1), newDelivery(2, { orderingKey: 'PL-2' }), newDelivery(3, { orderingKey: 'PL-3' })]);
        await store.claimDue(T0, LEASE, 2);
        expect(await store.releaseLeases()).toBe(2);
        expect(ids(await store.claimDue(T0 + 1, LEASE, 10))).toEqual(['dlv_1', 'dlv_2', 'dlv_3']);
      });
    });

    describe('attempts', () => {
      it('records a delivered attempt, after which the next in line is due', async () => {
        await seed([newDelivery(1), newDelivery(2)]);
        await store.claimDue(T0, LEASE, 10);
        await store.recordAttempt(attempt('dlv_1', { status: 'delivered', nextAttemptAt: null }), T0 + 50);
        const d = await store.getDelivery('bank-a', 'wh-1', 'dlv_1');
        expect(d).toMatchObject({ status: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 200, lastError: null, updatedAt: at(50) });
        expect(d?.attemptLog).toEqual([{ n: 1, at: at(1), statusCode: 200, latencyMs: 12, error: null }]);
        expect(ids(await store.claimDue(T0 + 50, LEASE, 10))).toEqual(['dlv_2']);
      });

      it('keeps a retried delivery first in line, due at its next attempt and not before', async () => {
        await seed([newDelivery(1), newDelivery(2)]);
        await store.claimDue(T0, LEASE, 10);
        await store.recordAttempt(attempt('dlv_1', { status: 'pending', nextAttemptAt: T0 + 5_000 }, 503), T0 + 10);
        expect(await store.claimDue(T0 + 4_999, LEASE, 10)).toEqual([]);
        expect(await store.nextDueAt()).toBe(T0 + 5_000);
        expect((await store.claimDue(T0 + 5_000, LEASE, 10))[0]).toMatchObject({ id: 'dlv_1', attempts: 1, lastStatus: 503 });
        await store.recordAttempt(attempt('dlv_1', { status: 'pending', nextAttemptAt: T0 + 6_000 }, null), T0 + 5_010);
        const d = await store.getDelivery('bank-a', 'wh-1', 'dlv_1');
        expect(d?.attemptLog.map((a) => [a.n, a.statusCode, a.error])).toEqual([
          [1, 503, null],
          [2, null, 'connection refused'],
        ]);
        expect(d).toMatchObject({ attempts: 2, lastStatus: null, lastError: 'connection refused' });
      });

      it('lets a failed delivery out of the line, so the next one goes', async () => {
        await seed([newDelivery(1), newDelivery(2)]);
        await store.recordAttempt(attempt('dlv_1', { status: 'failed', nextAttemptAt: T0 + 1 }, 500), T0 + 10);
        expect(await store.getDelivery('bank-a', 'wh-1', 'dlv_1')).toMatchObject({ status: 'failed', nextAttemptAt: null, attempts: 1 });
        expect(ids(await store.claimDue(T0 + 10, LEASE, 10))).toEqual(['dlv_2']);
      });

      it('disables an endpoint on 410, failing its other pending deliveries and no one else’s', async () => {
        await seed(
          [newDelivery(1), newDelivery(2, { orderingKey: 'PL-2' }), newDelivery(3, { endpointId: 'wh-2' })],
          [webhookEndpoint('wh-1'), webhookEndpoint('wh-2')],
        );
        await store.recordAttempt(attempt('dlv_1', { status: 'failed', nextAttemptAt: null, disableEndpoint: '410 Gone' }, 410), T0 + 10);
        expect(await store.getEndpoint('bank-a', 'wh-1')).toMatchObject({ status: 'disabled', disabledReason: '410 Gone' });
        expect(ids(await store.activeEndpoints())).toEqual(['wh-2']);
        expect(await store.getDelivery('bank-a', 'wh-1', 'dlv_2')).toMatchObject({ status: 'failed', lastError: 'endpoint disabled: 410 Gone' });
        expect(ids(await store.claimDue(T0 + 10, LEASE, 10))).toEqual(['dlv_3']);
      });

      it('logs a late attempt on a delivery its endpoint’s deletion failed, without reviving it', async () => {
        await seed([newDelivery(1)]);
        await store.claimDue(T0, LEASE, 10);
        await store.deleteEndpoint('bank-a', 'wh-1');
        await store.recordAttempt(attempt('dlv_1', { status: 'pending', nextAttemptAt: T0 + 5_000 }, 503), T0 + 10);
        await store.recordAttempt(attempt('dlv_1', { status: 'delivered', nextAttemptAt: null }), T0 + 20);
        const d = await store.getDelivery('bank-a', 'wh-1', 'dlv_1');
        expect(d).toMatchObject({ status: 'failed', lastError: 'endpoint deleted', attempts: 2, nextAttemptAt: null });
        expect(d?.attemptLog.map((a) => a.n)).toEqual([1, 2]);
        expect(await store.nextDueAt()).toBeNull();
      });

      it('ignores an attempt on a delivery it does not have', async () => {
        await store.recordAttempt(attempt('dlv_404', { status: 'delivered', nextAttemptAt: null }), T0);
        expect(await store.nextDueAt()).toBeNull();
      });
    });

    describe('next due', () => {
      it('is when the earliest claimable delivery falls due: first in line, after its lease', async () => {
        expect(await store.nextDueAt()).toBeNull();
        await seed([newDelivery(1), newDelivery(2)]);
        expect(await store.nextDueAt()).toBe(T0);
        await store.claimDue(T0, LEASE, 10);
        // dlv_1 is in flight and dlv_2 waits behind it: nothing to do before the lease ends.
        expect(await store.nextDueAt()).toBe(T0 + LEASE);
        await store.recordAttempt(attempt('dlv_1', { status: 'pending', nextAttemptAt: T0 + 300_000 }, 500), T0 + 10);
        expect(await store.nextDueAt()).toBe(T0 + 300_000);
        await store.recordAttempt(attempt('dlv_1', { status: 'delivered', nextAttemptAt: null }), T0 + 300_010);
        expect(await store.nextDueAt()).toBe(T0);
        await store.recordAttempt(attempt('dlv_2', { status: 'delivered', nextAttemptAt: null }), T0 + 300_020);
        expect(await store.nextDueAt()).toBeNull();
      });
    });

    describe('delivery log', () => {
      it('lists an endpoint’s deliveries newest first with their attempts, to its tenant only', async () => {
        await seed([newDelivery(1), newDelivery(2), newDelivery(3)]);
        await store.recordAttempt(attempt('dlv_1', { status: 'delivered', nextAttemptAt: null }), T0 + 10);
        const list = await store.listDeliveries('bank-a', 'wh-1', 2);
        expect(ids(list)).toEqual(['dlv_3', 'dlv_2']);
        expect((await store.listDeliveries('bank-a', 'wh-1', 5)).map((d) => d.attemptLog.length)).toEqual([0, 0, 1]);
        expect(await store.listDeliveries('bank-b', 'wh-1', 5)).toEqual([]);
        expect(await store.getDelivery('bank-b', 'wh-1', 'dlv_1')).toBeNull();
        expect(await store.getDelivery('bank-a', 'wh-2', 'dlv_1')).toBeNull();
      });

      it('replays a failed delivery on request: pending and due at once, its attempts kept', async () => {
        await seed([newDelivery(1)]);
        await store.recordAttempt(attempt('dlv_1', { status: 'failed', nextAttemptAt: null }, 500), T0 + 10);
        expect(await store.redeliver('bank-b', 'wh-1', 'dlv_1', T0 + 100)).toBe(false);
        expect(await store.redeliver('bank-a', 'wh-1', 'dlv_404', T0 + 100)).toBe(false);
        expect(await store.redeliver('bank-a', 'wh-1', 'dlv_1', T0 + 100)).toBe(true);
        expect(await store.getDelivery('bank-a', 'wh-1', 'dlv_1')).toMatchObject({ status: 'pending', nextAttemptAt: T0 + 100, attempts: 1, updatedAt: at(100) });
        expect(ids(await store.claimDue(T0 + 100, LEASE, 10))).toEqual(['dlv_1']);
      });
    });

    const { reopen } = options;
    if (reopen !== undefined) {
      it('keeps endpoints, deliveries, attempts, leases and the cursor across a restart', async () => {
        await seed([newDelivery(1), newDelivery(2), newDelivery(3, { orderingKey: 'PL-2' })]);
        await store.recordAttempt(attempt('dlv_1', { status: 'pending', nextAttemptAt: T0 + 5_000 }, 502), T0 + 10);
        await store.claimDue(T0 + 10, LEASE, 10); // dlv_3 in flight when the process dies
        await store.close();
        closed = true;
        store = await reopen();
        closed = false;
        expect(await store.fanOutCursor()).toBe(3);
        expect(await store.getEndpoint('bank-a', 'wh-1')).toEqual(webhookEndpoint('wh-1'));
        expect((await store.getDelivery('bank-a', 'wh-1', 'dlv_1'))?.attemptLog).toHaveLength(1);
        expect(await store.claimDue(T0 + 4_999, LEASE, 10)).toEqual([]);
        expect(ids(await store.claimDue(T0 + 10 + LEASE, LEASE, 10))).toEqual(['dlv_1', 'dlv_3']);
      });
    }
  });
}
