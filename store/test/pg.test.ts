/**
 * The PostgreSQL state adapter against a real server: the same contract suite as SQLite, and what only
 * a shared database has to prove — several processes (here: pools) on one database.
 */
import { verifyAuditChain } from '@pledgewatch/common';
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgState, openStateStore, type StateStore } from '../src/index.ts';
import { alert, at, batch, epc, pledge, price, release } from './fixtures.ts';
import { postgresAvailable, postgresForTests, type PostgresForTests } from './pg-helpers.ts';
import { describeStateStoreContract } from './state-contract.ts';

describe.skipIf(!postgresAvailable.ok)(suiteTitle('PostgreSQL state adapter on a real server', postgresAvailable), () => {
  let server: PostgresForTests;
  let lastUrl = '';
  beforeAll(async () => {
    server = await postgresForTests();
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  describeStateStoreContract(
    'postgres',
    async () => {
      lastUrl = await server.createDatabase();
      return openPgState({ url: lastUrl, poolSize: 4 });
    },
    { reopen: () => openPgState({ url: lastUrl, poolSize: 4 }) },
  );

  describe('several processes on one database', () => {
    const opened: StateStore[] = [];
    const two = async (): Promise<[StateStore, StateStore]> => {
      const url = await server.createDatabase();
      // At once, on a new database: the advisory lock lets one migrate and the other find it done.
      const [a, b] = await Promise.all([openPgState({ url }), openStateStore({ kind: 'postgres', url })]);
      opened.push(a, b);
      return [a, b];
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('migrates once when two processes open a new database at once, and records the versions', async () => {
      const url = await server.createDatabase();
      const stores = await Promise.all([1, 2, 3].map(() => openPgState({ url, poolSize: 2 })));
      opened.push(...stores);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ component: string; version: number }>(
          'SELECT component, version FROM schema_migrations ORDER BY component, version',
        );
        expect(rows).toEqual([
          { component: 'audit', version: 1 },
          { component: 'changes', version: 1 },
          { component: 'ingest', version: 1 },
          { component: 'state', version: 1 },
          { component: 'valuation', version: 1 },
        ]);
      } finally {
        await client.end();
      }
    });

    it('shows each process the other’s writes', async () => {
      const [a, b] = await two();
      await a.createPledge(pledge({ id: 'p1', epcs: [epc(1)] }));
      expect(await b.getPledge('bank-a', 'p1')).toMatchObject({ id: 'p1' });
      await b.applyAlertChanges([{ kind: 'open', alert: alert({ id: 'a1', pledgeId: 'p1' }) }]);
      expect((await a.listActiveAlerts()).map((x) => x.id)).toEqual(['a1']);
      expect(await b.commitBatch(batch('gw-1', 1))).toBe(true);
      expect(await a.commitBatch(batch('gw-1', 1))).toBe(false);
      expect((await a.pendingBatches()).map((x) => x.seq)).toEqual([1]);
    });

    it('lets exactly one of two concurrent pledges of the same EPC succeed', async () => {
      const [a, b] = await two();
      for (let round = 0; round < 10; round++) {
        const shared = epc(100 + round);
        const results = await Promise.allSettled([
          a.createPledge(pledge({ id: `a${round}`, tenant: 'bank-a', epcs: [epc(200 + round), shared] })),
          b.createPledge(pledge({ id: `b${round}`, tenant: 'bank-b', epcs: [shared, epc(300 + round)] })),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const failed = results.find((r) => r.status === 'rejected');
        expect(failed?.reason).toMatchObject({ code: 'EPC_ALREADY_PLEDGED' });
      }
      expect(await a.listAllPledges()).toHaveLength(10);
    });

    it('runs exclusivePledge work for one pledge one at a time across processes', async () => {
      const [a, b] = await two();
      let inside = 0;
      let most = 0;
      const work = async () => {
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 15));
        inside--;
      };
      await Promise.all(Array.from({ length: 8 }, (_, n) => (n % 2 === 0 ? a : b).exclusivePledge('p1', work)));
      expect(most).toBe(1);
      // Different pledges do not wait for each other.
      await Promise.all([a.exclusivePledge('p1', work), b.exclusivePledge('p2', work)]);
      expect(most).toBe(2);
    });

    it('keeps one unresolved alert per condition when two processes open it at once', async () => {
      const [a, b] = await two();
      await a.createPledge(pledge({ id: 'p1' }));
      const results = await Promise.all([
        a.commitBatch(batch('gw-1', 1), [{ kind: 'open', alert: alert({ id: 'from-a', pledgeId: 'p1' }) }]),
        b.commitBatch(batch('gw-2', 1), [{ kind: 'open', alert: alert({ id: 'from-b', pledgeId: 'p1' }) }]),
      ]);
      expect(results).toEqual([true, true]);
      const active = await b.listActiveAlerts();
      expect(active).toHaveLength(1);
      expect(active[0]?.occurrences).toBe(2);
    });

    it('hands out outbox seqs in commit order, so a follower polling meanwhile misses nothing', async () => {
      const [a, b] = await two();
      const pledges = 8;
      for (let i = 0; i < pledges; i++) await a.createPledge(pledge({ id: `p${i}`, epcs: [epc(i)] }));
      const seen: number[] = [];
      let cursor = 0;
      let writing = true;
      const follow = (async () => {
        while (writing || (await b.eventsAfter(cursor, 1)).length > 0) {
          for (const e of await b.eventsAfter(cursor, 50)) {
            seen.push(e.seq);
            cursor = e.seq;
          }
        }
      })();
      // Many writers on both pools at once, each transaction opening one alert (one event).
      await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          (n % 2 === 0 ? a : b).applyAlertChanges([
            { kind: 'open', alert: alert({ id: `a${n}`, pledgeId: `p${n % pledges}`, subject: `zone:Z${n}`, updatedAt: at(n) }) },
          ]),
        ),
      );
      writing = false;
      await follow;
      const all = (await a.eventsAfter(0, 1000)).map((e) => e.seq);
      expect(all).toHaveLength(40);
      expect(seen).toEqual(all);
    });

    it('never forks an audit chain when processes write one pledge at once, nor deadlocks on several', async () => {
      const [a, b] = await two();
      await a.createPledge(pledge({ id: 'p1', epcs: [epc(1)] }));
      await a.createPledge(pledge({ id: 'p2', epcs: [epc(2)] }));
      const store = (n: number) => (n % 2 === 0 ? a : b);
      // Every kind of writer, on both pools, interleaved: alert transactions touching both pledges in
      // either order, prices locking both heads, and single-pledge loan changes and releases.
      const results = await Promise.all(
        Array.from({ length: 48 }, (_, n): Promise<unknown> => {
          const [first, second] = n % 4 < 2 ? ['p1', 'p2'] : ['p2', 'p1'];
          switch (n % 6) {
            case 0:
              return store(n).applyAlertChanges([
                { kind: 'open', alert: alert({ id: `a${n}`, pledgeId: first, subject: `zone:Z${n}` }) },
                { kind: 'open', alert: alert({ id: `b${n}`, pledgeId: second, subject: `zone:Z${n}` }) },
              ]);
            case 1:
              return store(n).putPrice(price('wheat', 200 + n, n * 1_000));
            case 2:
              return store(n).updatePledgeLoan('bank-a', first, 1_000 + n, at(n * 1_000));
            case 3:
              return store(n).createRelease(release({ id: `r${n}`, pledgeId: first, createdAt: at(n) }));
            case 4:
              return store(n).putFxRate({ base: 'USD', quote: 'EUR', rate: 0.9, at: at(n * 1_000), source: 'ecb' });
            default:
              return store(n).resolveAlert('bank-a', `a${n - 5}`, at(n * 1_000));
          }
        }),
      );
      for (const id of ['p1', 'p2']) {
        const records = await b.auditRecords(id, 0, 1_000);
        expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
        expect(verifyAuditChain(id, records, await a.getAuditHead(id))).toEqual([]);
      }
      const all = [...(await a.auditRecords('p1', 0, 1_000)), ...(await a.auditRecords('p2', 0, 1_000))];
      const prices = results.filter((r, n) => n % 6 === 1 && r === true).length;
      // A resolution may have come before its alert was opened: then it found nothing to resolve.
      const resolved = results.filter((r, n) => n % 6 === 5 && r !== null).length;
      // Per pledge: registration, 8 alerts opened, prices, 4 loan changes and 4 releases; and the resolutions.
      expect(all).toHaveLength(2 * (1 + 8 + prices + 4 + 4) + resolved);
    });

    it('refuses a second unresolved alert for a condition even from raw SQL', async () => {
      const url = await server.createDatabase();
      const store = await openPgState({ url });
      opened.push(store);
      await store.createPledge(pledge({ id: 'p1' }));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const insert = (id: string, status: string) =>
        client.query(
          `INSERT INTO alerts (id, tenant, pledge_id, type, subject, status, opened_at, updated_at, body)
           VALUES ($1, 'bank-a', 'p1', 'DAMAGE', 'zone:A1', $2, 0, 0, '{}')`,
          [id, status],
        );
      try {
        await insert('x1', 'open');
        await expect(insert('x2', 'acknowledged')).rejects.toMatchObject({ code: '23505' });
        await insert('x3', 'resolved');
        await insert('x4', 'resolved');
      } finally {
        await client.end();
      }
    });
  });
});
