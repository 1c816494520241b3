/**
 * Ingest behind a real Mosquitto running the shipped deploy/mosquitto/mosquitto.conf, with password
 * and ACL files written by upsertMosquittoAccount: the broker enforces what the embedded one does,
 * and ingest's persistent session keeps what gateways publish while it restarts.
 */
import { randomBytes } from 'node:crypto';
import { topics, INGEST_TOPICS } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { findServer, startMosquitto, suiteTitle } from '@pledgewatch/common/testing-servers';
import { openSqliteSeries, openSqliteState, type SeriesStore, type StateStore } from '@pledgewatch/store';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngest, mqttConnection, shardMqtt, upsertMosquittoAccount, type BrokerRole, type Ingest, type ShardNews } from '../src/index.ts';
import { addGateway, arrived, batch, epc } from './harness.ts';

const mosquittoBin = findServer('mosquitto', 'PW_TEST_MOSQUITTO_BIN');
const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });

describe.skipIf(!mosquittoBin.ok)(suiteTitle('ingest behind a real Mosquitto', mosquittoBin), () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let dir: TempDir;
  let store: StateStore;
  let series: SeriesStore;
  const passwords = new Map<string, string>();
  const clients: MqttClient[] = [];

  /** Adds an account to Mosquitto's files (and a gateway to the store), reloads, and waits until it can log in. */
  async function account(username: string, role: BrokerRole, siteId = 'site-1', password = randomBytes(18).toString('base64url')): Promise<string> {
    await upsertMosquittoAccount({ passwordFile: broker.passwordFile, aclFile: broker.aclFile }, { username, password, role });
    if (role === 'gateway') await addGateway(store, username, siteId, password);
    broker.reload();
    await waitFor(`${username} accepted after SIGHUP`, async () => {
      const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0, clientId: `probe-${username}` });
      await c.endAsync();
      return true;
    });
    passwords.set(username, password);
    return password;
  }

  async function connect(username: string, opts: IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(broker.url, { username, password: passwords.get(username) ?? '', reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  }

  function startIngest(registry: Registry): Ingest {
    return createIngest({
      store,
      series,
      logger,
      registry,
      checkpointMs: 50,
      pledgeRefreshMs: 100,
      connection: mqttConnection({
        url: broker.url,
        clientId: 'pw-ingest',
        username: 'pw-ingest',
        password: passwords.get('pw-ingest') ?? '',
        topics: [...INGEST_TOPICS],
        logger,
      }),
    });
  }

  async function count(registry: Registry, name: string): Promise<number> {
    const metric = registry.getSingleMetric(name);
    return metric === undefined ? 0 : (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  beforeAll(async () => {
    if (!mosquittoBin.ok) return;
    broker = await startMosquitto(mosquittoBin.bin);
    dir = tempDir('pw-ingest-mosquitto-');
    store = openSqliteState({ path: dir.file('state.db') });
    series = openSqliteSeries({ path: dir.file('series.db') });
    await account('pw-ingest', 'service');
    await account('gw-a', 'gateway');
    await account('gw-b', 'gateway');
    await account('feed-1', 'feed');
    await account('pw-monitor', 'monitor');
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await series?.close();
    await store?.close();
    await broker?.remove();
    dir?.remove();
  });

  it('refuses a wrong password, an unknown user and an anonymous login', async () => {
    const attempt = (opts: IClientOptions) => mqtt.connectAsync(broker.url, { reconnectPeriod: 0, ...opts });
    await expect(attempt({ username: 'gw-a', password: 'not-the-password' })).rejects.toThrow(/not authori[sz]ed|bad user ?name or password/i);
    await expect(attempt({ username: 'gw-nobody', password: 'whatever' })).rejects.toThrow(/not authori[sz]ed|bad user ?name or password/i);
    await expect(attempt({})).rejects.toThrow(/not authori[sz]ed/i);
  });

  it("lets nothing published under another gateway's topic reach ingest", async () => {
    const registry = new Registry();
    const ingest = startIngest(registry);
    await ingest.start();
    try {
      const spy = await connect('gw-b', { clientId: 'gw-b' });
      const overheard: string[] = [];
      spy.on('message', (topic) => overheard.push(topic));
      await spy.subscribeAsync('pw/v1/#', { qos: 1 });
      // gw-b claims to be gw-a, on gw-a's topic; a feed tries a gateway topic; a gateway tries prices.
      await spy.publishAsync(topics.events('gw-a'), batch('gw-a', 9_001, [arrived(9_001)]), { qos: 1 });
      const feed = await connect('feed-1');
      await feed.publishAsync(topics.events('gw-a'), batch('gw-a', 9_002, [arrived(9_002)]), { qos: 1 });
      await spy.publishAsync(topics.price('copper'), JSON.stringify({ commodity: 'copper', price: 1, currency: 'USD', unit: 't', at: new Date().toISOString(), source: 'x' }), { qos: 1 });
      // MQTT 5 makes the refusal visible to the client: 0x87 not authorised.
      const v5 = await connect('gw-b', { protocolVersion: 5, clientId: 'ignored' });
      await expect(v5.publishAsync(topics.events('gw-a'), batch('gw-a', 9_003, [arrived(9_003)]), { qos: 1 })).rejects.toThrow(/not authori[sz]ed/i);

      // A sentinel on gw-a's own topic, after the rest: once it is applied, anything let through before it would be too.
      const gwA = await connect('gw-a');
      await gwA.publishAsync(topics.events('gw-a'), batch('gw-a', 1, [arrived(1)]), { qos: 1 });
      await waitFor('the sentinel applied', async () => (await store.getTags([epc(1)])).length === 1);
      expect(await store.getTags([epc(9_001), epc(9_002), epc(9_003)])).toEqual([]);
      expect(await count(registry, 'pw_ingest_events_total')).toBe(1);
      expect(await store.getPrice('copper')).toBeNull();
      expect(overheard).toEqual([]);
    } finally {
      await ingest.stop();
    }
  });

  it("gives a monitor account the broker's $SYS statistics (for health checks) and none of the gateways' traffic", async () => {
    const monitor = await connect('pw-monitor');
    const seen: string[] = [];
    monitor.on('message', (topic) => seen.push(topic));
    await monitor.subscribeAsync(['$SYS/broker/uptime', 'pw/v1/#'], { qos: 0 });
    const gwA = await connect('gw-a');
    await gwA.publishAsync(topics.status('gw-a'), JSON.stringify({ probe: true }), { qos: 1 });
    await waitFor('the broker uptime', () => seen.includes('$SYS/broker/uptime'));
    expect(seen.filter((t) => t.startsWith('pw/'))).toEqual([]);
  });

  it('reconnects ingest by itself after Mosquitto restarts, and keeps what was queued for it across the restart', async () => {
    const first = new Registry();
    const ingest1 = startIngest(first);
    await ingest1.start();
    await broker.stop();
    await waitFor('ingest to see the broker gone', () => !ingest1.isConnected());
    await broker.start();
    await waitFor('ingest reconnected by itself', () => ingest1.isConnected(), 15_000);
    let gateway = await connect('gw-a', { clientId: 'gw-a-restart' });
    await gateway.publishAsync(topics.events('gw-a'), batch('gw-a', 5_001, [arrived(20_001)]), { qos: 1 });
    await waitFor('a batch after the reconnect applied', async () => (await store.getTags([epc(20_001)])).length === 1);
    await ingest1.stop();

    // Queued for ingest's session while it is away, then the broker restarts: persistence keeps both.
    for (let seq = 5_002; seq <= 5_051; seq++) await gateway.publishAsync(topics.events('gw-a'), batch('gw-a', seq, [arrived(15_000 + seq)]), { qos: 1 });
    await gateway.endAsync();
    await broker.stop();
    await broker.start();
    const second = new Registry();
    const ingest2 = startIngest(second);
    try {
      await ingest2.start();
      const tags = Array.from({ length: 50 }, (_, i) => epc(20_002 + i));
      await waitFor('the 50 queued batches applied', async () => (await store.getTags(tags)).length === 50, 20_000);
      expect(await count(second, 'pw_ingest_events_total')).toBe(50);
      gateway = await connect('gw-a', { clientId: 'gw-a-after' });
      await gateway.publishAsync(topics.events('gw-a'), batch('gw-a', 5_052, [arrived(20_052)]), { qos: 1 });
      await waitFor('live traffic after the restarts', async () => (await store.getTags([epc(20_052)])).length === 1);
    } finally {
      await ingest2.stop();
    }
  });

  it('loses nothing a gateway publishes while ingest is stopped and started again', async () => {
    const first = new Registry();
    const second = new Registry();
    const ingest1 = startIngest(first);
    await ingest1.start();
    const gateway = await connect('gw-b', { clientId: 'gw-b-publisher' });
    const N = 300;
    let restarted: Ingest | undefined;
    try {
      for (let seq = 1; seq <= N; seq++) {
        // One new tag per batch: the tag table ends up with exactly the batches ingest applied.
        await gateway.publishAsync(topics.events('gw-b'), batch('gw-b', seq, [arrived(10_000 + seq, 'A1')]), { qos: 1 });
        if (seq === 100) await ingest1.stop();
        if (seq === 200) {
          restarted = startIngest(second);
          await restarted.start();
        }
      }
      const tags = Array.from({ length: N }, (_, i) => epc(10_001 + i));
      await waitFor('every batch applied', async () => (await store.getTags(tags)).length === N, 20_000);
      const before = await count(first, 'pw_ingest_events_total');
      const after = await count(second, 'pw_ingest_events_total');
      // Each event counted once: redelivered batches are dropped as duplicates before they count.
      expect(before + after).toBe(N);
      expect(before).toBeGreaterThanOrEqual(100);
      expect(after).toBeGreaterThanOrEqual(100);
    } finally {
      await restarted?.stop();
    }
  });

  it('runs two shards side by side, each under its own account, and loses nothing of either site while they are stopped', async () => {
    // Shard 1 logs in as pw-ingest-s1 with ingest's password (use_username_as_clientid: one session per user).
    const password = passwords.get('pw-ingest') ?? '';
    await account('pw-ingest-s1', 'service', undefined, password);
    // A second site, registered after site-1: shard 1's.
    await account('gw-far', 'gateway', 'site-far');
    const url = new URL(broker.url);
    [url.username, url.password] = ['pw-ingest', password];
    const base = { url: url.href, clientId: 'pw-ingest', topics: [...INGEST_TOPICS] };
    const shards: Ingest[] = [];
    let registries: Registry[] = [];
    const startShards = async () => {
      shards.length = 0;
      registries = [new Registry(), new Registry()];
      for (const index of [0, 1]) {
        const share = (news: ShardNews, to: number | null) => {
          for (const [k, s] of shards.entries()) if (to === null ? k !== index : k === to) void s.receive(news);
        };
        shards.push(
          createIngest({
            store, series, logger, registry: registries[index] as Registry, checkpointMs: 50, pledgeRefreshMs: 100, shard: { index, count: 2, share },
            connection: mqttConnection({ ...shardMqtt(base, index), logger }),
          }),
        );
      }
      for (const s of shards) await s.start();
    };
    const applied = async () => (await Promise.all(registries.map((r) => count(r, 'pw_ingest_events_total')))).reduce((a, b) => a + b, 0);

    await startShards();
    const [near, far] = [await connect('gw-a', { clientId: 'gw-a-sharded' }), await connect('gw-far')];
    await near.publishAsync(topics.events('gw-a'), batch('gw-a', 7_001, [arrived(30_001)]), { qos: 1 });
    await far.publishAsync(topics.events('gw-far'), batch('gw-far', 1, [arrived(30_002)]), { qos: 1 });
    await waitFor('both sites applied', async () => (await store.getTags([epc(30_001), epc(30_002)])).length === 2);
    // Neither took the other's session: both still connected, each event applied by one shard.
    expect(shards.map((s) => s.isConnected())).toEqual([true, true]);
    expect(await applied()).toBe(2);
    for (const s of shards) await s.stop();

    for (let i = 1; i <= 20; i++) {
      await near.publishAsync(topics.events('gw-a'), batch('gw-a', 7_001 + i, [arrived(30_100 + i)]), { qos: 1 });
      await far.publishAsync(topics.events('gw-far'), batch('gw-far', 1 + i, [arrived(30_200 + i)]), { qos: 1 });
    }
    await startShards();
    try {
      const tags = Array.from({ length: 20 }, (_, i) => [epc(30_101 + i), epc(30_201 + i)]).flat();
      await waitFor('what both sites sent while ingest was down', async () => (await store.getTags(tags)).length === 40, 20_000);
      expect(await applied()).toBe(40);
    } finally {
      for (const s of shards) await s.stop();
    }
  });
});
