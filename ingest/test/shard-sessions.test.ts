/**
 * Ingest's shards on the broker, on the real aedes broker: a new shard count with persistent sessions
 * (worker/sessions.ts), and the embedded broker's routing of each site's messages (broker/shard-routing.ts).
 */
import { topics } from '@pledgewatch/common';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import { openSqliteState } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { BrokerShardRouting, reconcileShardSessions, startEmbeddedBroker } from '../src/index.ts';
import { addGateway, arrived, batch } from './harness.ts';

it('ends the sessions of shards no longer run, and warns when new shards start without a backlog', async () => {
  const dir = tempDir('pw-ingest-sessions-');
  const store = openSqliteState({ path: dir.file('state.db') });
  const service = { username: 'pw-ingest', password: 'service-secret' };
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger: pino({ level: 'silent' }), registry: new Registry(), service });
  const lines: { level: number; msg: string; ended?: string[]; newSessions?: string[] }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const base = { url: broker.url, clientId: 'pw-ingest', ...service, topics: [topics.allEvents] };
  const session = (clientId: string) => mqtt.connectAsync(broker.url, { ...service, clientId, clean: false, reconnectPeriod: 0 });
  try {
    // Shard 1 of a former run of two: a persistent session with a message queued while ingest was down.
    const s1 = await session('pw-ingest-s1');
    await s1.subscribeAsync(topics.allEvents, { qos: 1 });
    await s1.endAsync();
    const svc = await mqtt.connectAsync(broker.url, { ...service, clientId: 'publisher' });
    await svc.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1)]), { qos: 1 });
    await svc.endAsync();

    await reconcileShardSessions({ mqtt: base, previous: 2, workers: 1, external: true, logger });
    const again = await session('pw-ingest-s1');
    const queued: string[] = [];
    again.on('message', (topic) => queued.push(topic));
    await new Promise((r) => setTimeout(r, 200));
    // A clean session: nothing queued, nothing subscribed.
    expect(queued).toEqual([]);
    await again.endAsync();
    expect(lines.at(-1)).toMatchObject({ level: 40, ended: ['pw-ingest-s1'] });

    await reconcileShardSessions({ mqtt: base, previous: 1, workers: 3, external: true, logger });
    expect(lines.at(-1)).toMatchObject({ level: 40, newSessions: ['pw-ingest-s1', 'pw-ingest-s2'] });
    // Same count, or the embedded broker (whose sessions end with the process): nothing to warn about.
    const count = lines.length;
    await reconcileShardSessions({ mqtt: base, previous: 3, workers: 3, external: true, logger });
    await reconcileShardSessions({ mqtt: base, previous: 3, workers: 1, external: false, logger });
    expect(lines.slice(count).map((l) => l.level)).toEqual([30]);
  } finally {
    await broker.close();
    await store.close();
    dir.remove();
  }
});

it('sends each shard’s session its own sites’ messages in full and the others’ without payload, losing none', async () => {
  const dir = tempDir('pw-ingest-routing-');
  const store = openSqliteState({ path: dir.file('state.db') });
  const service = { username: 'pw-ingest', password: 'service-secret' };
  const routing = new BrokerShardRouting(store, 2, 'pw-ingest');
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger: pino({ level: 'silent' }), registry: new Registry(), service, routing });
  const clients: mqtt.MqttClient[] = [];
  try {
    await addGateway(store, 'gw-a', 'site-a', 'pw-a');
    await addGateway(store, 'gw-b', 'site-b', 'pw-b');
    // Shard 0 and 1 (persistent sessions, as ingest's), and a client that is no shard.
    const got = new Map<string, { topic: string; bytes: number }[]>();
    for (const clientId of ['pw-ingest', 'pw-ingest-s1', 'monitor']) {
      const c = await mqtt.connectAsync(broker.url, { ...service, clientId, clean: clientId === 'monitor' });
      got.set(clientId, []);
      c.on('message', (topic, payload) => got.get(clientId)?.push({ topic, bytes: payload.length }));
      await c.subscribeAsync('pw/v1/#', { qos: 1 });
      clients.push(c);
    }
    const [a, b] = [await mqtt.connectAsync(broker.url, { username: 'gw-a', password: 'pw-a' }), await mqtt.connectAsync(broker.url, { username: 'gw-b', password: 'pw-b' })];
    clients.push(a, b);
    const N = 200;
    for (let i = 1; i <= N; i++) {
      await Promise.all([a.publishAsync(topics.events('gw-a'), batch('gw-a', i, [arrived(i)]), { qos: 1 }), b.publishAsync(topics.events('gw-b'), batch('gw-b', i, [arrived(i)]), { qos: 1 })]);
    }
    // Who nobody can place — a gateway unknown here, a price — everyone gets in full.
    const svc = await mqtt.connectAsync(broker.url, { ...service, clientId: 'publisher' });
    clients.push(svc);
    await svc.publishAsync(topics.events('ghost'), batch('ghost', 1, [arrived(1)]), { qos: 1 });
    await svc.publishAsync(topics.price('copper'), '{}', { qos: 1 });
    await waitFor('every message everywhere', () => [...got.values()].every((m) => m.length === 2 * N + 2));
    const full = (clientId: string, topic: string) => got.get(clientId)?.filter((m) => m.topic === topic && m.bytes > 0).length;
    expect([full('pw-ingest', topics.events('gw-a')), full('pw-ingest', topics.events('gw-b'))]).toEqual([N, 0]);
    expect([full('pw-ingest-s1', topics.events('gw-a')), full('pw-ingest-s1', topics.events('gw-b'))]).toEqual([0, N]);
    expect([full('monitor', topics.events('gw-a')), full('monitor', topics.events('gw-b'))]).toEqual([N, N]);
    for (const clientId of ['pw-ingest', 'pw-ingest-s1']) expect([full(clientId, topics.events('ghost')), full(clientId, topics.price('copper'))]).toEqual([1, 1]);
  } finally {
    for (const c of clients) await c.endAsync(true);
    await broker.close();
    await store.close();
    dir.remove();
  }
});
