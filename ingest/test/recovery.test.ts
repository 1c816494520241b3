import { topics } from '@pledgewatch/common';
import { waitFor } from '@pledgewatch/common/testing';
import { openSqliteSeries, openSqliteState } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { createIngest, type BrokerConnection } from '../src/index.ts';
import { addGateway, arrived, batch, epc, pledgeFixture, startHarness, type Harness } from './harness.ts';

let h: Harness;
afterEach(async () => h.close());

const idle: BrokerConnection = { start: () => Promise.resolve(), isConnected: () => true, close: () => Promise.resolve() };

it('replays batches that were acknowledged but not yet checkpointed when ingest died', async () => {
  h = await startHarness({ checkpointMs: 3_600_000 });
  await addGateway(h.store, 'gw-1', 'site-1', 'pw-gw-1');
  await h.store.createPledge(pledgeFixture());
  const gw = await h.connect('gw-1', 'pw-gw-1');
  await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1), arrived(2)]), { qos: 1 });
  await waitFor('batch logged', async () => (await h.store.pendingBatches()).length === 1);

  // Another process opens the same files, as a restarted ingest would after a crash.
  const store = openSqliteState({ path: h.dir.file('state.db') });
  const series = openSqliteSeries({ path: h.dir.file('series.db') });
  expect(await store.getTags([epc(1), epc(2)])).toEqual([]);
  const restarted = createIngest({ store, series, connection: idle, logger: pino({ level: 'silent' }), registry: new Registry() });
  await restarted.start();
  try {
    expect((await store.getTags([epc(1), epc(2)])).map((t) => t.present)).toEqual([true, true]);
    expect(await store.pendingBatches()).toEqual([]);
    // The replayed batch stays applied: the gateway's retry of it is still a duplicate.
    expect(await store.commitBatch({ gatewayId: 'gw-1', seq: 1, appliedAt: new Date().toISOString(), payload: Buffer.from('x') })).toBe(false);
  } finally {
    await restarted.stop();
    await series.close();
    await store.close();
  }
});
