/**
 * The PostgreSQL webhook store against a real server: the same contract as SQLite, and what only a
 * shared database has to prove — several dispatcher processes (here: pools) on one database never
 * deliver one delivery twice, never pass an earlier event of a pledge, and fan each event out once.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openPgWebhooks, openWebhookStore, type Delivery, type WebhookStore } from '../src/index.ts';
import { T0 } from './fixtures.ts';
import { describeOnPostgres } from './pg-helpers.ts';
import { describeWebhookStoreContract, newDelivery, webhookEndpoint } from './webhook-contract.ts';

describeOnPostgres('PostgreSQL webhook store on a real server', (db) => {
  describeWebhookStoreContract('postgres', async () => openPgWebhooks({ url: await db.fresh(), poolSize: 4 }), {
    reopen: () => openPgWebhooks({ url: db.last(), poolSize: 4 }),
  });

  describe('several dispatcher processes on one database', () => {
    const opened: WebhookStore[] = [];
    const several = async (n: number): Promise<WebhookStore[]> => {
      const url = await db.fresh();
      // At once, on a new database: the migration lock lets one migrate and the others find it done.
      const stores = await Promise.all(Array.from({ length: n }, () => openWebhookStore({ kind: 'postgres', url, poolSize: 3 })));
      opened.push(...stores);
      return stores;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('migrates the webhooks component once and records it', async () => {
      const [a] = await several(3);
      expect(a?.kind).toBe('postgres');
      const client = new pg.Client({ connectionString: db.last() });
      await client.connect();
      try {
        const { rows } = await client.query<{ component: string; version: number }>('SELECT component, version FROM schema_migrations');
        expect(rows).toEqual([{ component: 'webhooks', version: 1 }]);
      } finally {
        await client.end();
      }
    });

    it('delivers every delivery exactly once and each pledge’s in order, with three dispatchers claiming at once', async () => {
      const [a, b, c] = await several(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error('three stores');
      await a.createEndpoint(webhookEndpoint('wh-1'));
      await a.createEndpoint(webhookEndpoint('wh-2'));
      const all = Array.from({ length: 300 }, (_, i) =>
        newDelivery(i + 1, { endpointId: i % 3 === 0 ? 'wh-2' : 'wh-1', orderingKey: `PL-${i % 7}` }),
      );
      await a.fanOut(all, all.length, T0);

      const delivered: Delivery[] = [];
      const inFlight = new Set<string>();
      const dispatcher = async (store: WebhookStore) => {
        for (let idle = 0; idle < 5; ) {
          const claimed = await store.claimDue(T0 + 1, 600_000, 7);
          if (claimed.length === 0) {
            idle++;
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          idle = 0;
          await Promise.all(
            claimed.map(async (d) => {
              // An earlier event of its line must not be in flight elsewhere while this one goes.
              const line = `${d.endpointId}/${d.orderingKey}`;
              expect(inFlight.has(line), `two deliveries of ${line} at once`).toBe(false);
              inFlight.add(line);
              delivered.push(d);
              await new Promise((r) => setTimeout(r, Math.random() * 3));
              inFlight.delete(line);
              await store.recordAttempt(
                { deliveryId: d.id, attempt: { at: new Date(T0).toISOString(), statusCode: 200, latencyMs: 1, error: null }, status: 'delivered', nextAttemptAt: null },
                T0 + 2,
              );
            }),
          );
        }
      };
      await Promise.all([dispatcher(a), dispatcher(b), dispatcher(c)]);

      expect(delivered.map((d) => d.id).sort()).toEqual(all.map((d) => d.id).sort());
      for (const endpointId of ['wh-1', 'wh-2']) {
        for (let k = 0; k < 7; k++) {
          const line = delivered.filter((d) => d.endpointId === endpointId && d.orderingKey === `PL-${k}`).map((d) => Number(d.id.slice(4)));
          expect(line).toEqual([...line].sort((x, y) => x - y));
        }
      }
      expect(await b.nextDueAt()).toBeNull();
    });

    it('fans each event out once when two dispatchers fan out the same events at once, numbering deliveries in event order', async () => {
      const [a, b] = await several(2);
      if (a === undefined || b === undefined) throw new Error('two stores');
      await a.createEndpoint(webhookEndpoint('wh-1'));
      for (let round = 0; round < 10; round++) {
        const from = round * 20;
        // Each computed its own deliveries (own ids) from the same cursor, as two dispatchers would.
        const batch = (tag: string) => Array.from({ length: 20 }, (_, i) => newDelivery(from + i + 1, { id: `dlv_${tag}_${from + i + 1}` }));
        await Promise.all([a.fanOut(batch('a'), from + 20, T0), b.fanOut(batch('b'), from + 20, T0)]);
      }
      expect(await b.fanOutCursor()).toBe(200);
      const list = await a.listDeliveries('bank-a', 'wh-1', 1000);
      expect(list).toHaveLength(200);
      // Newest first: event numbers strictly descending, so seqs follow event order.
      const events = list.map((d) => Number(d.eventId.slice(4)));
      expect(events).toEqual(Array.from({ length: 200 }, (_, i) => 200 - i));
    });
  });
});
