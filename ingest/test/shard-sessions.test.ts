/** Ingest's shards on a broker that keeps their sessions (worker/sessions.ts): a new shard count, on the real aedes broker. */
import { topics } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { openSqliteState } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { reconcileShardSessions, startEmbeddedBroker } from '../src/index.ts';
import { arrived, batch } from './harness.ts';

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

    await reconcileShardSessions({ mqtt: base, previous: 2, workers: 1, logger });
    const again = await session('pw-ingest-s1');
    const queued: string[] = [];
    again.on('message', (topic) => queued.push(topic));
    await new Promise((r) => setTimeout(r, 200));
    // A clean session: nothing queued, nothing subscribed.
    expect(queued).toEqual([]);
    await again.endAsync();
    expect(lines.at(-1)).toMatchObject({ level: 40, ended: ['pw-ingest-s1'] });

    await reconcileShardSessions({ mqtt: base, previous: 1, workers: 3, logger });
    expect(lines.at(-1)).toMatchObject({ level: 40, newSessions: ['pw-ingest-s1', 'pw-ingest-s2'] });
    // Same count, or the embedded broker (whose sessions end with the process): nothing to warn about.
    const count = lines.length;
    await reconcileShardSessions({ mqtt: base, previous: 3, workers: 3, logger });
    await reconcileShardSessions({ mqtt: undefined, previous: 3, workers: 1, logger });
    expect(lines.slice(count).map((l) => l.level)).toEqual([30]);
  } finally {
    await broker.close();
    await store.close();
    dir.remove();
  }
});
