import { tempDir } from '@pledgewatch/common/testing';
import type { TagState } from '@pledgewatch/common';
import { openSqliteSeries, openSqliteState } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createIngest, shardMqtt, siteShards, type BrokerConnection, type ShardNews } from '../src/index.ts';
import { ShardRouting, supersedes } from '../src/shards.ts';
import { addGateway, arrived, batch, epc, pledgeFixture } from './harness.ts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const gateway = (id: string, siteId: string, s: number) => ({ id, siteId, createdAt: at(s) });

describe('siteShards', () => {
  it('ranks sites by their first gateway, then by id, and deals them out in turn', () => {
    const shards = siteShards(
      [gateway('g1', 'delta', 1), gateway('g2', 'alpha', 3), gateway('g3', 'delta', 0), gateway('g4', 'charlie', 2), gateway('g5', 'bravo', 2)],
      2,
    );
    // delta (0 s), bravo and charlie (2 s, by id), alpha (3 s).
    expect(Object.fromEntries(shards)).toEqual({ delta: 0, bravo: 1, charlie: 0, alpha: 1 });
  });

  it('keeps every known site where it was when later sites arrive, and balances by site count', () => {
    const first = Array.from({ length: 7 }, (_, i) => gateway(`g${i}`, `site-${i}`, i));
    const later = [...first, ...Array.from({ length: 5 }, (_, i) => gateway(`h${i}`, `new-${i}`, 100 + i))];
    for (const count of [1, 2, 3, 5]) {
      const before = siteShards(first, count);
      const after = siteShards(later, count);
      for (const [site, shard] of before) expect(after.get(site)).toBe(shard);
      const sizes = Array.from({ length: count }, (_, k) => [...after.values()].filter((s) => s === k).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('gives one shard everything, and refuses a count out of range', () => {
    expect([...siteShards([gateway('a', 'x', 1), gateway('b', 'y', 0)], 1).values()]).toEqual([0, 0]);
    for (const bad of [0, 33, 1.5, Number.NaN]) expect(() => siteShards([], bad)).toThrow(/1 to 32/);
  });
});

describe('ShardRouting', () => {
  const shared: { news: ShardNews; to: number | null }[] = [];
  const routing = (index: number, count = 2) => new ShardRouting({ index, count, share: (news, to) => shared.push({ news, to }) });

  it('owns the sites assigned to it, and every site when alone', () => {
    const r = routing(1);
    expect(r.putGateways([gateway('g1', 'site-a', 0), gateway('g2', 'site-b', 1), gateway('g3', 'site-b', 2)])).toEqual([]);
    expect([r.ownsSite('site-a'), r.ownsSite('site-b'), r.leads]).toEqual([false, true, false]);
    const alone = routing(0, 1);
    alone.putGateways([gateway('g1', 'site-a', 0)]);
    expect([alone.ownsSite('site-a'), alone.ownsSite('anywhere'), alone.sharded]).toEqual([true, true, false]);
    expect(() => routing(2, 2)).toThrow(/index/);
  });

  it('reports known sites that move, which only a registration race can cause', () => {
    const r = routing(0);
    r.putGateways([gateway('g2', 'site-b', 5)]);
    // A site registered earlier, seen only now, takes rank 0 and pushes site-b to the other shard.
    expect(r.putGateways([gateway('g1', 'site-a', 1)])).toEqual(['site-b']);
  });

  it('knows which shard owns another shard’s EPCs and trackers, and hands news only when sharded', () => {
    const r = routing(0);
    r.putGateways([gateway('g1', 'site-a', 0), gateway('g2', 'site-b', 1)]);
    const foreign = pledgeFixture({ id: 'PL-B', siteId: 'site-b', trackers: ['trk-1'] });
    expect(r.putForeignPledge(foreign)).toBe(true);
    expect(r.putForeignPledge(foreign)).toBe(false);
    expect([r.ownerOfEpc(epc(1)), r.ownerOfTracker('trk-1'), r.isForeignPledge('PL-B')]).toEqual([1, 1, true]);
    // Items changed: the old EPCs are no longer routed.
    expect(r.putForeignPledge({ ...foreign, items: [{ epc: epc(9), quantity: 1 }] })).toBe(true);
    expect([r.ownerOfEpc(epc(1)), r.ownerOfEpc(epc(9))]).toEqual([undefined, 1]);

    shared.length = 0;
    r.share({ readers: [] }, null);
    routing(0, 1).share({ readers: [] }, null);
    expect(shared).toEqual([{ news: { readers: [] }, to: null }]);
  });
});

describe('supersedes', () => {
  const tag = (over: Partial<TagState>): TagState => ({
    epc: epc(1), gatewayId: 'gw-a', siteId: 'site-a', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: at(10), updatedAt: at(10), ...over,
  });

  it('takes newer state, never older', () => {
    expect(supersedes(tag({}), undefined)).toBe(true);
    expect(supersedes(tag({ updatedAt: at(11) }), tag({}))).toBe(true);
    expect(supersedes(tag({ updatedAt: at(9), lastSeenAt: at(9) }), tag({}))).toBe(false);
  });

  it('takes a sighting elsewhere over a departure confirmed later but based on an earlier sighting', () => {
    const departed = tag({ present: false, lastSeenAt: at(10), updatedAt: at(70) });
    expect(supersedes(tag({ gatewayId: 'gw-b', siteId: 'site-b', lastSeenAt: at(20), updatedAt: at(20) }), departed)).toBe(true);
    // Seen elsewhere before it was last seen here: the departure stands.
    expect(supersedes(tag({ gatewayId: 'gw-b', siteId: 'site-b', lastSeenAt: at(5), updatedAt: at(5) }), departed)).toBe(false);
    // The same gateway's own older sighting never beats its departure.
    expect(supersedes(tag({ lastSeenAt: at(20), updatedAt: at(20) }), departed)).toBe(false);
  });
});

describe('shardMqtt', () => {
  const base = { url: 'mqtt://pw-ingest:s3cr%2Ft@broker:1883', clientId: 'pw-ingest', topics: ['pw/v1/#'] };

  it('keeps shard 0 as configured, so its persistent session carries on', () => {
    expect(shardMqtt(base, 0)).toBe(base);
  });

  it('gives shard k its own client id and, on a broker account, its own user with the same password', () => {
    const s2 = shardMqtt(base, 2);
    expect(s2.clientId).toBe('pw-ingest-s2');
    const url = new URL(s2.url);
    expect([url.username, url.password, url.host]).toEqual(['pw-ingest-s2', 's3cr%2Ft', 'broker:1883']);
    // The embedded broker: no user in the URL, the service account in the options stays as it is.
    const embedded = shardMqtt({ url: 'mqtt://127.0.0.1:1883', clientId: 'pw-ingest', username: 'pw-ingest', password: 'x', topics: [] }, 1);
    expect(embedded).toMatchObject({ url: 'mqtt://127.0.0.1:1883', clientId: 'pw-ingest-s1', username: 'pw-ingest', password: 'x' });
  });
});

it('replays and retires only its own sites’ pending batches on each shard', async () => {
  const dir = tempDir('pw-ingest-shard-replay-');
  const store = openSqliteState({ path: dir.file('state.db') });
  const series = openSqliteSeries({ path: dir.file('series.db') });
  const idle: BrokerConnection = { start: () => Promise.resolve(), isConnected: () => true, close: () => Promise.resolve() };
  try {
    await addGateway(store, 'gw-a', 'site-a', 'x');
    await addGateway(store, 'gw-b', 'site-b', 'x');
    // Logged before a crash, never checkpointed.
    const log = (gatewayId: string, n: number) =>
      store.commitBatch({ gatewayId, seq: 1, appliedAt: new Date().toISOString(), payload: Buffer.from(batch(gatewayId, 1, [arrived(n)])) });
    await log('gw-a', 1);
    await log('gw-b', 2);
    const shards = [0, 1].map((index) =>
      createIngest({
        store, series, connection: idle, logger: pino({ level: 'silent' }), registry: new Registry(), shard: { index, count: 2, share: () => undefined },
      }),
    );
    await shards[0]?.start();
    expect((await store.pendingBatches()).map((b) => b.gatewayId)).toEqual(['gw-b']);
    expect((await store.getTags([epc(1), epc(2)])).map((t) => t.epc)).toEqual([epc(1)]);
    await shards[1]?.start();
    expect(await store.pendingBatches()).toEqual([]);
    expect(await store.getTags([epc(1), epc(2)])).toHaveLength(2);
    for (const s of shards) await s.stop();
  } finally {
    await series.close();
    await store.close();
    dir.remove();
  }
});
