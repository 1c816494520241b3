/**
 * Ingest sharded by site over two worker threads on one embedded broker, as `pledgewatch start` runs
 * it with ingestWorkers 2: site-a is shard 0's, site-b shard 1's (registered in that order).
 */
import { pledgeQuantities, topics, type Pledge, INGEST_TOPICS } from '@pledgewatch/common';
import { sleep, tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { openSqliteState, openSqliteWebhooks, type StateStore, type WebhookStore } from '@pledgewatch/store';
import { generateSecret } from '@pledgewatch/webhooks';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/test/receiver.ts';
import { startEmbeddedBroker, startIngestWorker, type EmbeddedBroker, type IngestWorker } from '../src/index.ts';
import { addGateway, arrived, batch, epc, pledgeFixture } from './harness.ts';

const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const service = { username: 'pw-ingest', password: 'service-secret' };
const PL_A = pledgeFixture({ id: 'PL-A', siteId: 'site-a' });
const PL_B = pledgeFixture({ id: 'PL-B', siteId: 'site-b', items: [11, 12, 13, 14].map((n) => ({ epc: epc(n), quantity: 2.5 })) });
const COPPER = 'copper-cathode';

let dir: TempDir;
let store: StateStore;
let webhooks: WebhookStore;
let broker: EmbeddedBroker;
let receiver: Receiver;
let ingest: IngestWorker;
const clients: MqttClient[] = [];
const seq = new Map<string, number>();

/** Ingest as `pledgewatch start` runs it, with a dispatcher that polls only once a minute: a webhook sooner was woken. */
function start(workers: number): Promise<IngestWorker> {
  return startIngestWorker({
    state: { kind: 'sqlite', path: dir.file('state.db') },
    series: { kind: 'sqlite', path: dir.file('series.db') },
    mqtt: { url: broker.url, clientId: 'pw-ingest', ...service, topics: [...INGEST_TOPICS] },
    logLevel: process.env.PW_TEST_LOG ?? 'silent',
    workers,
    checkpointMs: 50,
    // Everything is registered before start: a price reaches shard 1 only from shard 0, not by polling.
    pledgeRefreshMs: 60_000,
    rules: { confirmationDelayS: 0, relocationConfirmationS: 0, tickS: 0.1 },
    webhooks: { allow: ['127.0.0.1'], pollMs: 60_000 },
    logger,
  });
}

async function connect(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0, clientId: `test-${username}` });
  clients.push(client);
  return client;
}

async function publishBatch(gw: MqttClient, gatewayId: string, events: unknown[]): Promise<void> {
  const next = (seq.get(gatewayId) ?? 0) + 1;
  seq.set(gatewayId, next);
  await gw.publishAsync(topics.events(gatewayId), batch(gatewayId, next, events), { qos: 1 });
}

/** A pledge's quantities as the API computes them: from the tags the shards checkpointed. */
async function stored(pledge: Pledge): Promise<ReturnType<typeof pledgeQuantities>> {
  const tags = new Map((await store.getTags(pledge.items.map((i) => i.epc))).map((t) => [t.epc, t]));
  return pledgeQuantities(pledge, (e) => tags.get(e), () => true);
}

async function total(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await ingest.metrics()).find((m) => m.name === name);
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

const price = (value: number, ageMs: number) =>
  ({ commodity: COPPER, price: value, currency: 'USD', unit: 't', at: new Date(Date.now() - ageMs).toISOString(), source: 'test' }) as const;

const damage = () => ({ type: 'camera', at: new Date().toISOString(), cameraId: 'cam-1', zone: 'A1', kind: 'damage', confidence: 0.95 });
const departed = (n: number) => {
  const at = new Date().toISOString();
  return { type: 'tag.departed', at, epc: epc(n), zone: 'A1', readerId: 'r1', lastSeenAt: at };
};
const hooks = () => receiver.received.map((r) => JSON.parse(r.body) as { data: { type: string; pledgeId: string } });
const alertKeys = async () => (await store.listActiveAlerts()).map((a) => `${a.pledgeId}/${a.type}/${a.subject}`).sort();

beforeAll(async () => {
  dir = tempDir('pw-ingest-sharded-');
  store = openSqliteState({ path: dir.file('state.db') });
  webhooks = openSqliteWebhooks({ path: dir.file('state.db') });
  receiver = await startReceiver();
  broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry: new Registry(), service });
  await addGateway(store, 'gw-a', 'site-a', 'pw-a');
  await addGateway(store, 'gw-b', 'site-b', 'pw-b');
  await store.createPledge(PL_A);
  await store.createPledge(PL_B);
  await store.putPrice(price(10_000, 60_000));
  await webhooks.createEndpoint({
    id: 'wh_1', tenant: 'bank-a', url: receiver.url('/risk'), events: ['alert.opened'], secrets: [{ secret: generateSecret(), expiresAt: null }],
    status: 'active', disabledReason: null, createdAt: new Date().toISOString(),
  });
  ingest = await start(2);
});

afterAll(async () => {
  for (const c of clients) await c.endAsync(true);
  await ingest.stop();
  await broker.close();
  await receiver.close();
  await webhooks.close();
  await store.close();
  dir.remove();
});

it('serves each site on its own shard: quantities, prices, alerts and webhooks of both, unknown gateways counted once', async () => {
  await waitFor('both shards connected', () => ingest.isConnected());
  const gwA = await connect('gw-a', 'pw-a');
  const gwB = await connect('gw-b', 'pw-b');
  await publishBatch(gwA, 'gw-a', [1, 2, 3, 4].map((n) => arrived(n)));
  await publishBatch(gwB, 'gw-b', [11, 12, 13, 14].map((n) => arrived(n)));
  await waitFor('both pledges present', async () => (await stored(PL_A)).present === 10 && (await stored(PL_B)).present === 10);
  // Each shard values its own pledges: all goods present at 10,000 USD/t, LTV 0.59 (ok). A price
  // reaches shard 0 only (it writes it); shard 1 revalues PL-B with what shard 0 hands on: LTV 0.84.
  const svc = await connect(service.username, service.password);
  await svc.publishAsync(topics.price(COPPER), JSON.stringify(price(7_000, 0)), { qos: 1 });
  await waitFor('both pledges at margin call', async () =>
    (await store.getPledgeStatus('PL-A')) === 'margin_call' && (await store.getPledgeStatus('PL-B')) === 'margin_call');

  // DAMAGE on shard 1: the webhook comes from shard 0's dispatcher, woken through the host — once it
  // has delivered the margin calls and gone back to sleep for its minute-long poll.
  await waitFor('both MARGIN_CALL webhooks', () => hooks().filter((e) => e.data.type === 'MARGIN_CALL').length === 2);
  await sleep(500);
  await publishBatch(gwB, 'gw-b', [damage()]);
  const hook = await waitFor('the DAMAGE webhook', () => hooks().find((e) => e.data.type === 'DAMAGE'));
  expect(hook.data.pledgeId).toBe('PL-B');

  // A gateway nobody registered: refused and counted by shard 0 alone. Later batches of both sites
  // show that both shards have seen it.
  await svc.publishAsync(topics.events('ghost'), batch('ghost', 1, [arrived(99)]), { qos: 1 });
  await publishBatch(gwA, 'gw-a', [departed(1)]);
  await publishBatch(gwB, 'gw-b', [departed(11)]);
  await waitFor('both departures checkpointed', async () => (await stored(PL_A)).present === 7.5 && (await stored(PL_B)).present === 7.5);
  expect(await total('pw_ingest_rejected_total', { reason: 'unknown_gateway' })).toBe(1);
  expect(await total('pw_ingest_messages_total', { kind: 'events' })).toBe(6);
  expect(await total('pw_ingest_messages_total', { kind: 'price' })).toBe(1);
  expect(await total('pw_ingest_events_total')).toBe(11);
});

it('hands a pledge’s tags seen at another shard’s site to the pledge’s shard: RELOCATION', async () => {
  // PL-A's tag 2 turns up at site-b: shard 1 sees it, shard 0 (PL-A's) must know.
  const gwB = await connect('gw-b', 'pw-b');
  await publishBatch(gwB, 'gw-b', [arrived(2, 'B7')]);
  const relocation = await waitFor('RELOCATION of PL-A', async () =>
    (await store.listActiveAlerts(['RELOCATION'])).find((a) => a.pledgeId === 'PL-A'),
  );
  // Critical: off-site, which only PL-A's shard, told by the other, can know.
  expect(relocation.severity).toBe('critical');
  expect(relocation.summary).toContain('site-b/B7');
  // And the API (the tags table) shows it once checkpointed.
  await waitFor('PL-A relocated in the store', async () => {
    const q = await stored(PL_A);
    return q.present === 5 && q.relocated === 2.5 && q.missing === 2.5;
  });
});

it('keeps everything across a restart, with the same or another number of workers', async () => {
  const before = await alertKeys();
  expect(before).toEqual(expect.arrayContaining(['PL-A/QUANTITY_LOSS/quantity', 'PL-A/RELOCATION/tags', 'PL-B/QUANTITY_LOSS/quantity']));
  expect(before.filter((k) => k.startsWith('PL-B/DAMAGE/'))).toHaveLength(1);
  const statuses = [await store.getPledgeStatus('PL-A'), await store.getPledgeStatus('PL-B')];
  for (const workers of [2, 1]) {
    await ingest.stop();
    ingest = await start(workers);
    await waitFor(`${workers} worker(s) connected`, () => ingest.isConnected());
    // The same alerts, none opened twice; the same statuses and quantities.
    expect(await alertKeys()).toEqual(before);
    expect([await store.getPledgeStatus('PL-A'), await store.getPledgeStatus('PL-B')]).toEqual(statuses);
    // Both sites still served, each batch once; the conditions persist instead of opening again.
    const [gwA, gwB] = [await connect('gw-a', 'pw-a'), await connect('gw-b', 'pw-b')];
    await publishBatch(gwB, 'gw-b', [damage(), departed(12)]);
    await publishBatch(gwA, 'gw-a', [departed(3)]);
    await waitFor('the departures checkpointed', async () => (await stored(PL_B)).present === 5 && (await stored(PL_A)).present === 2.5);
    await publishBatch(gwB, 'gw-b', [arrived(12)]);
    await publishBatch(gwA, 'gw-a', [arrived(3)]);
    await waitFor('the returns checkpointed', async () => (await stored(PL_B)).present === 7.5 && (await stored(PL_A)).present === 5);
    await ingest.refreshPledges();
    expect(await alertKeys()).toEqual(before);
  }
});
