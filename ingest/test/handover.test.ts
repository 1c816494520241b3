/**
 * The embedded broker's hand-over to ingest in the same process (broker/handover.ts, portConnection):
 * each shard gets its own sites' messages in order, a gateway is held back while ingest is behind,
 * what comes before a shard is attached waits for it, and a stop handles everything handed over. On
 * the real aedes broker, real MQTT clients and MessagePorts; the shards are portConnections driven by
 * the test.
 */
import { MessageChannel } from 'node:worker_threads';
import { topics } from '@pledgewatch/common';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import { openSqliteState } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { IngestHandover, portConnection, startEmbeddedBroker, type BrokerConnection, type InboundMessage } from '../src/index.ts';
import { addGateway, arrived, batch } from './harness.ts';

const logger = pino({ level: 'silent' });
const service = { username: 'pw-ingest', password: 'service-secret' };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function central(shards: number, gateways: [string, string][], highWater?: number) {
  const dir = tempDir('pw-handover-');
  cleanups.push(() => dir.remove());
  const store = openSqliteState({ path: dir.file('state.db') });
  cleanups.push(() => store.close());
  for (const [id, site] of gateways) await addGateway(store, id, site, `pw-${id}`);
  const registry = new Registry();
  const handover = highWater === undefined ? await IngestHandover.open(store, shards) : new IngestHandover(shards, undefined, highWater);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry, service, handover });
  cleanups.push(() => broker.close());
  const connect = async (username: string, password: string) => {
    const client = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync(true));
    return client;
  };
  const backlog = async () => (await registry.getSingleMetric('pw_broker_ingest_backlog')?.get())?.values[0]?.value;
  return { handover, broker, connect, gateway: (id: string) => connect(id, `pw-${id}`), backlog };
}

/** A shard as ingest's worker runs it: a portConnection on its end of the channel, with a handler the test can hold. */
async function shard(handover: IngestHandover, k: number) {
  const channel = new MessageChannel();
  handover.attach(k, channel.port1);
  const got: InboundMessage[] = [];
  /** Per message handled: whether more followed in its group (see MessageHandler). */
  const more: boolean[] = [];
  let gate: Promise<void> = Promise.resolve();
  const connection: BrokerConnection = portConnection(channel.port2, logger);
  await connection.start(async (message, followed = false) => {
    more.push(followed);
    await gate;
    got.push(message);
  });
  return {
    got,
    more,
    connection,
    /** The worker's end of the channel. */
    port: channel.port2,
    /** Holds the handler until the returned function is called. */
    hold(): () => void {
      let release = () => {};
      gate = new Promise((r) => (release = r));
      return release;
    },
  };
}

/** Whether `promise` settles within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

const seqOf = (m: InboundMessage) => (JSON.parse(m.payload.toString()) as { seq: number }).seq;

it('hands each shard its own sites’ messages in order, and every shard what it cannot place', async () => {
  // Registered in this order, site-a is shard 0's and site-b shard 1's (siteShards).
  const c = await central(2, [['gw-a', 'site-a'], ['gw-b', 'site-b']]);
  const [s0, s1] = [await shard(c.handover, 0), await shard(c.handover, 1)];
  const [a, b] = [await c.gateway('gw-a'), await c.gateway('gw-b')];
  const N = 50;
  await Promise.all(
    Array.from({ length: N }, (_, i) => [
      a.publishAsync(topics.events('gw-a'), batch('gw-a', i + 1, [arrived(i)]), { qos: 1 }),
      b.publishAsync(topics.events('gw-b'), batch('gw-b', i + 1, [arrived(i)]), { qos: 1 }),
    ]).flat(),
  );
  // Nobody can place these — a gateway not registered, a price — so every shard gets them and decides.
  const svc = await c.connect(service.username, service.password);
  await svc.publishAsync(topics.events('ghost'), batch('ghost', 1, [arrived(1)]), { qos: 1 });
  await svc.publishAsync(topics.price('copper'), '{}', { qos: 1 });
  await waitFor('all handled', () => c.handover.backlog === 0);

  const events = (s: typeof s0, gw: string) => s.got.filter((m) => m.topic === topics.events(gw)).map(seqOf);
  const inOrder = Array.from({ length: N }, (_, i) => i + 1);
  expect([events(s0, 'gw-a'), events(s0, 'gw-b')]).toEqual([inOrder, []]);
  expect([events(s1, 'gw-a'), events(s1, 'gw-b')]).toEqual([[], inOrder]);
  for (const s of [s0, s1]) expect(s.got.slice(-2).map((m) => m.topic)).toEqual([topics.events('ghost'), topics.price('copper')]);
  expect(await c.backlog()).toBe(0);
});

it('stops reading from a gateway while ingest is behind, and takes up again where it stopped', async () => {
  const c = await central(1, [['gw-1', 'site-1']], 3);
  const s = await shard(c.handover, 0);
  const gw = await c.gateway('gw-1');
  const release = s.hold();
  // About 25 kB each, so that the broker reads them a few at a time.
  const big = (seq: number) => batch('gw-1', seq, Array.from({ length: 150 }, (_, k) => arrived(k)));
  const N = 40;
  let acknowledged = 0;
  const published = Array.from({ length: N }, (_, i) => gw.publishAsync(topics.events('gw-1'), big(i + 1), { qos: 1 }).then(() => acknowledged++));
  await waitFor('the backlog above its high water mark', () => c.handover.backlog > 3);
  await new Promise((r) => setTimeout(r, 300));
  // The broker stopped reading: what it had not read yet is neither handed over nor acknowledged.
  expect(c.handover.backlog).toBeLessThan(N);
  expect(acknowledged).toBeLessThan(N);
  release();
  await Promise.all(published);
  await waitFor('all handled', () => s.got.length === N);
  expect(s.got.map(seqOf)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  expect(await c.backlog()).toBe(0);
});

it('keeps what comes before its shard is attached, and a stop waits for everything handed over', async () => {
  const c = await central(1, [['gw-1', 'site-1']]);
  const gw = await c.gateway('gw-1');
  await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1)]), { qos: 1 });
  expect(await c.backlog()).toBe(1);
  const s = await shard(c.handover, 0);
  await waitFor('handled once attached', () => s.got.length === 1);

  // Stopping: the broker's drain waits for ingest, and ingest's close handles what is queued, not only the message in hand.
  const release = s.hold();
  await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 2, [arrived(2)]), { qos: 1 });
  await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 3, [arrived(3)]), { qos: 1 });
  await waitFor('both handed over', () => c.handover.backlog === 2);
  const drained = c.handover.drained(10_000);
  const closed = s.connection.close();
  expect(await settlesWithin(Promise.race([drained, closed]), 200)).toBe(false);
  release();
  await Promise.all([drained, closed]);
  expect(s.got.map(seqOf)).toEqual([1, 2, 3]);
  expect(await c.backlog()).toBe(0);
});

it('hands over every message it acknowledged when it closes, and no last will of its own closing', async () => {
  const c = await central(1, [['gw-1', 'site-1']]);
  const s = await shard(c.handover, 0);
  const will = { topic: topics.status('gw-1'), payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: true };
  const gw = await mqtt.connectAsync(c.broker.url, { username: 'gw-1', password: 'pw-gw-1', reconnectPeriod: 0, will });
  cleanups.push(() => gw.endAsync(true));
  gw.on('error', () => {});
  const acknowledged: number[] = [];
  let seq = 0;
  const send = () => {
    for (let i = 0; i < 20; i++) {
      const n = ++seq;
      gw.publish(topics.events('gw-1'), batch('gw-1', n, [arrived(n)]), { qos: 1 }, (err) => err || acknowledged.push(n));
    }
  };
  send();
  await waitFor('the first acknowledged', () => acknowledged.length === 20);
  // The close begins in the turn of the event loop whose read takes the next 20 and acknowledges them
  // (aedes publishes a PUBACKed message one turn later).
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      setImmediate(() => void c.broker.close().then(resolve));
      send();
    }, 0),
  );
  await c.handover.drained(5000);
  const handled = new Set(s.got.filter((m) => m.topic === topics.events('gw-1')).map(seqOf));
  expect(acknowledged.filter((n) => !handled.has(n))).toEqual([]);
  expect(s.got.filter((m) => m.topic === will.topic)).toEqual([]);
});

it('no longer counts what a shard whose worker is gone had not handled', async () => {
  const c = await central(2, [['gw-a', 'site-a'], ['gw-b', 'site-b']]);
  const [s0, s1] = [await shard(c.handover, 0), await shard(c.handover, 1)];
  s0.hold();
  const [a, b] = [await c.gateway('gw-a'), await c.gateway('gw-b')];
  await a.publishAsync(topics.events('gw-a'), batch('gw-a', 1, [arrived(1)]), { qos: 1 });
  await b.publishAsync(topics.events('gw-b'), batch('gw-b', 1, [arrived(2)]), { qos: 1 });
  await waitFor('shard 1 handled its own', () => s1.got.length === 1);
  expect(c.handover.backlog).toBe(1);
  // Shard 0's worker dies with gw-a's message in hand: a stop does not wait for it, the backlog forgets it.
  const drained = c.handover.drained(10_000);
  s0.port.close();
  await drained;
  expect(await c.backlog()).toBe(0);
});

it('hands a shard what queued behind the message in hand as one group, closed by its last message', async () => {
  const c = await central(1, [['gw-1', 'site-1']]);
  const s = await shard(c.handover, 0);
  const gw = await c.gateway('gw-1');
  const release = s.hold();
  await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1)]), { qos: 1 });
  await waitFor('the first in hand', () => s.more.length === 1);
  for (const seq of [2, 3, 4]) await gw.publishAsync(topics.events('gw-1'), batch('gw-1', seq, [arrived(seq)]), { qos: 1 });
  await waitFor('all handed over', () => c.handover.backlog === 4);
  // Posted to the shard at the end of the broker's turn, received at its next: well within this.
  await new Promise((r) => setTimeout(r, 100));
  release();
  await waitFor('all handled', () => c.handover.backlog === 0);
  // The first came alone; the three that queued behind it are one group, the last closing it.
  expect(s.more).toEqual([false, true, true, false]);
  expect(s.got.map(seqOf)).toEqual([1, 2, 3, 4]);
});
