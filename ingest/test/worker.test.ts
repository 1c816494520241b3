import { topics, INGEST_TOPICS } from '@pledgewatch/common';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import { openSqliteState } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { IngestHandover, startEmbeddedBroker, startIngestWorker } from '../src/index.ts';
import { addGateway, arrived, batch, epc } from './harness.ts';

it('runs ingest on a worker thread with its own store connections, and stops it cleanly', async () => {
  const dir = tempDir('pw-ingest-worker-');
  const logger = pino({ level: 'silent' });
  const store = openSqliteState({ path: dir.file('state.db') });
  const service = { username: 'pw-ingest', password: 'secret' };
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry: new Registry(), service });
  await addGateway(store, 'gw-1', 'site-1', 'pw-gw-1');
  const ingest = await startIngestWorker({
    state: { kind: 'sqlite', path: dir.file('state.db') },
    series: { kind: 'sqlite', path: dir.file('series.db') },
    mqtt: { url: broker.url, clientId: 'pw-ingest', ...service, topics: [...INGEST_TOPICS] },
    logLevel: 'silent',
    checkpointMs: 50,
    logger,
  });
  try {
    await waitFor('worker connected', () => ingest.isConnected());
    const gw = await mqtt.connectAsync(broker.url, { username: 'gw-1', password: 'pw-gw-1' });
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1), arrived(2)]), { qos: 1 });
    await gw.publishAsync(topics.events('gw-1'), 'garbage', { qos: 1 });
    await gw.endAsync();
    // The main thread's own store connection sees what the worker checkpointed.
    await waitFor('tags checkpointed', async () => (await store.getTags([epc(1), epc(2)])).length === 2);
    const metrics = await ingest.metrics();
    const total = (name: string) => metrics.find((m) => m.name === name)?.values.reduce((s, v) => s + v.value, 0);
    expect(total('pw_ingest_events_total')).toBe(2);
    expect(total('pw_ingest_rejected_total')).toBe(1);
    // The same, one metric at a time.
    expect(await ingest.total('pw_ingest_events_total')).toBe(2);
    expect(await ingest.total('pw_ingest_rejected_total')).toBe(1);
    expect(await ingest.total('pw_no_such_metric')).toBe(0);
  } finally {
    await ingest.stop();
    expect(ingest.isConnected()).toBe(false);
    await broker.close();
    await store.close();
    dir.remove();
  }
});

it('reports a worker that cannot start instead of hanging', async () => {
  const dir = tempDir('pw-ingest-worker-');
  try {
    await expect(
      startIngestWorker({
        state: { kind: 'sqlite', path: dir.file('state.db') },
        series: { kind: 'sqlite', path: dir.file('series.db') },
        mqtt: { url: 'mqtt://127.0.0.1:1', clientId: 'pw-ingest', topics: [topics.allEvents] },
        logLevel: 'silent',
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(/ingest failed to start/);
  } finally {
    dir.remove();
  }
});

it('takes the embedded broker’s messages in-process, and handles all it was handed before it stops', async () => {
  const dir = tempDir('pw-ingest-worker-');
  const logger = pino({ level: 'silent' });
  const store = openSqliteState({ path: dir.file('state.db') });
  await addGateway(store, 'gw-1', 'site-1', 'pw-gw-1');
  await addGateway(store, 'gw-2', 'site-2', 'pw-gw-2');
  // As `pledgewatch start` runs it: two shards, each given its own sites' messages.
  const handover = await IngestHandover.open(store, 2);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry: new Registry(), service: { username: 'pw-ingest', password: 'secret' }, handover });
  const ingest = await startIngestWorker({
    state: { kind: 'sqlite', path: dir.file('state.db') },
    series: { kind: 'sqlite', path: dir.file('series.db') },
    handover,
    workers: 2,
    logLevel: 'silent',
    checkpointMs: 60_000,
    logger,
  });
  try {
    expect(ingest.isConnected()).toBe(true);
    const N = 30;
    for (const g of [1, 2]) {
      const gw = await mqtt.connectAsync(broker.url, { username: `gw-${g}`, password: `pw-gw-${g}`, reconnectPeriod: 0 });
      for (let seq = 1; seq <= N; seq++) await gw.publishAsync(topics.events(`gw-${g}`), batch(`gw-${g}`, seq, [arrived(g * 1000 + seq)]), { qos: 1 });
      await gw.endAsync();
    }
    // Stopping as the central side does: no more messages taken, what was handed over handled, then ingest stops.
    await broker.close();
    await handover.drained(10_000);
    await ingest.stop();
    // Every batch the broker acknowledged made it into the tags ingest checkpointed as it stopped.
    const epcs = [1, 2].flatMap((g) => Array.from({ length: N }, (_, i) => epc(g * 1000 + i + 1)));
    expect((await store.getTags(epcs)).length).toBe(2 * N);
    expect(handover.backlog).toBe(0);
  } finally {
    await ingest.stop();
    await broker.close();
    await store.close();
    dir.remove();
  }
});
