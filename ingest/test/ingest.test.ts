import { pledgeQuantities, readerAvailability, topics, type Quantities } from '@pledgewatch/common';
import { sleep, waitFor } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/index.ts';
import { addGateway, arrived, batch, epc, pledgeFixture, startHarness, type Harness } from './harness.ts';

let h: Harness;

async function quantities(pledgeId = 'PL-1'): Promise<Quantities> {
  const pledge = await h.store.getPledge('bank-a', pledgeId);
  if (pledge === null) throw new Error('no pledge');
  const tags = new Map((await h.store.getTags(pledge.items.map((i) => i.epc))).map((t) => [t.epc, t]));
  const gateways = new Map((await h.store.listGateways()).map((g) => [g.id, g.online]));
  const up = readerAvailability(await h.store.listReaders(), (id) => gateways.get(id));
  return pledgeQuantities(pledge, (e) => tags.get(e), up);
}

beforeEach(async () => {
  h = await startHarness();
  await addGateway(h.store, 'gw-1', 'site-1', 'pw-gw-1');
  await addGateway(h.store, 'gw-2', 'site-2', 'pw-gw-2');
  await h.store.createPledge(pledgeFixture());
});
afterEach(async () => h.close());

describe('ingest over the embedded broker', () => {
  it('applies tag events, keeps present quantity and writes quantity points', async () => {
    const gw = await h.connect('gw-1', 'pw-gw-1');
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [1, 2, 3, 4].map((n) => arrived(n))), { qos: 1 });
    await waitFor('4 tags present', async () => (await quantities()).present === 10);
    await h.ingest.refreshPledges();
    const departed = { type: 'tag.departed', at: new Date().toISOString(), epc: epc(4), zone: 'A1', readerId: 'r1', lastSeenAt: new Date().toISOString() };
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 2, [departed]), { qos: 1 });
    await waitFor('one tag missing', async () => (await quantities()).missing === 2.5);
    const series = await waitFor('quantity points', async () => {
      const s = await h.series.query({ measurement: 'pledge_quantity', field: 'present', tags: { pledgeId: 'PL-1' }, from: 0, to: Date.now() + 1000, stepMs: 1 });
      return s.some((p) => p.value === 7.5) && s;
    });
    expect(series.at(-1)?.value).toBe(7.5);
  });

  it('drops a replayed (gatewayId, seq) and changes nothing', async () => {
    const gw = await h.connect('gw-1', 'pw-gw-1');
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 7, [arrived(1)]), { qos: 1 });
    await waitFor('tag present', async () => (await quantities()).present === 2.5);
    // Same seq, different content: a replay must not apply.
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 7, [arrived(2)]), { qos: 1 });
    await waitFor('duplicate counted', async () => (await h.counter('pw_ingest_duplicate_batches_total')) === 1);
    expect((await quantities()).present).toBe(2.5);
    // Nor does it linger in ingest's memory (a batch is applied, then taken back when it does not
    // commit): the quantity sampled after the next batch counts tags 1 and 3 only.
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 8, [arrived(3)]), { qos: 1 });
    const sampled = await waitFor('quantity sampled after the next batch', async () => {
      const s = await h.series.query({ measurement: 'pledge_quantity', field: 'present', tags: { pledgeId: 'PL-1' }, from: 0, to: Date.now() + 1000, stepMs: 1 });
      const last = s.at(-1)?.value;
      return last !== undefined && last !== 2.5 && last;
    });
    expect(sampled).toBe(5);
    expect((await quantities()).present).toBe(5);
  });

  it('counts applied events by type, in a batch of mixed types too', async () => {
    const gw = await h.connect('gw-1', 'pw-gw-1');
    const at = new Date().toISOString();
    const departed = { type: 'tag.departed', at, epc: epc(1), zone: 'A1', readerId: 'r1', lastSeenAt: at };
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1), arrived(2), departed, arrived(3)]), { qos: 1 });
    await waitFor('events counted', async () => (await h.counter('pw_ingest_events_total', { type: 'tag.arrived' })) === 3);
    expect(await h.counter('pw_ingest_events_total', { type: 'tag.departed' })).toBe(1);
  });

  it('counts malformed payloads and bad events without losing the good ones', async () => {
    const gw = await h.connect('gw-1', 'pw-gw-1');
    await gw.publishAsync(topics.events('gw-1'), '{not json', { qos: 1 });
    await gw.publishAsync(topics.events('gw-1'), JSON.stringify({ v: 1, gatewayId: 'gw-1', seq: 'x', events: [] }), { qos: 1 });
    const bad = { type: 'tag.arrived', at: 'yesterday', epc: 'zz', zone: 'A1', readerId: 'r1' };
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 3, [arrived(1), bad, arrived(2)]), { qos: 1 });
    await waitFor('good events applied', async () => (await quantities()).present === 5);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'malformed_json' })).toBe(1);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'invalid_batch' })).toBe(1);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'invalid_event' })).toBe(1);
  });

  it('rejects batches from unknown gateways and batches claiming another gateway', async () => {
    const svc = await h.connect(h.service.username, h.service.password, { clientId: 'svc-test' });
    await svc.publishAsync(topics.events('ghost'), batch('ghost', 1, [arrived(1)]), { qos: 1 });
    await svc.publishAsync(topics.events('gw-1'), batch('gw-2', 1, [arrived(1)]), { qos: 1 });
    await waitFor('unknown gateway counted', async () => (await h.counter('pw_ingest_rejected_total', { reason: 'unknown_gateway' })) === 1);
    await waitFor('mismatch counted', async () => (await h.counter('pw_ingest_rejected_total', { reason: 'gateway_mismatch' })) === 1);
    expect((await quantities()).unknown).toBe(10);
  });

  it('lets a gateway publish only under its own topics, and only with its password', async () => {
    await expect(h.connect('gw-1', 'wrong')).rejects.toThrow();
    const gw = await h.connect('gw-1', 'pw-gw-1');
    gw.publish(topics.events('gw-2'), batch('gw-2', 1, [arrived(1)]), { qos: 1 });
    await waitFor('publish refused', async () => (await h.counter('pw_broker_denied_total', { op: 'publish' })) === 1);
    await sleep(100);
    expect(await h.store.getTags([epc(1)])).toEqual([]);
  });

  it('resynchronises from a snapshot and treats a downed reader as unknown, not missing', async () => {
    const gw = await h.connect('gw-1', 'pw-gw-1');
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [1, 2, 3, 4].map((n) => arrived(n))), { qos: 1 });
    const snapshot = { type: 'inventory.snapshot', at: new Date(Date.now() + 1).toISOString(), zone: 'A1', readerId: 'r1', epcs: [epc(1), epc(2), epc(3)] };
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 2, [snapshot]), { qos: 1 });
    await waitFor('snapshot applied', async () => (await quantities()).missing === 2.5);
    const down = { type: 'reader.status', at: new Date(Date.now() + 2).toISOString(), readerId: 'r1', connected: false, error: 'cable' };
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 3, [down]), { qos: 1 });
    await waitFor('reader down → unknown', async () => {
      const q = await quantities();
      return q.unknown === 7.5 && q.present === 0 && q.missing === 2.5;
    });
  });

  it('marks a gateway offline from its last will, making its tags unknown', async () => {
    const will = { v: 1, gatewayId: 'gw-1', online: false, at: new Date().toISOString() };
    const gw = await h.connect('gw-1', 'pw-gw-1', { will: { topic: topics.status('gw-1'), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true } });
    await gw.publishAsync(topics.status('gw-1'), JSON.stringify({ ...will, online: true, agentVersion: 'test' }), { qos: 1, retain: true });
    await gw.publishAsync(topics.events('gw-1'), batch('gw-1', 1, [arrived(1)]), { qos: 1 });
    await waitFor('present', async () => (await quantities()).present === 2.5);
    gw.stream.destroy(); // an unplugged gateway: no DISCONNECT, so the broker sends the will
    await waitFor('offline', async () => (await h.store.getGateway('gw-1'))?.online === false);
    expect((await quantities()).unknown).toBe(10);
  });

  it('takes prices from the price topic, newest wins', async () => {
    await h.store.createMqttAccount({ id: 'feed-1', kind: 'feed', siteId: null, passwordHash: await hashPassword('pw-feed'), createdAt: new Date().toISOString() });
    const feed = await h.connect('feed-1', 'pw-feed');
    const price = { commodity: 'copper-cathode', price: 9000, currency: 'USD', unit: 't', at: '2026-11-28T10:00:00.000Z', source: 'test' };
    await feed.publishAsync(topics.price('copper-cathode'), JSON.stringify(price), { qos: 1 });
    await feed.publishAsync(topics.price('copper-cathode'), JSON.stringify({ ...price, price: 1, at: '2026-11-28T09:00:00.000Z' }), { qos: 1 });
    await feed.publishAsync(topics.price('copper-cathode'), JSON.stringify({ ...price, price: -5 }), { qos: 1 });
    await waitFor('invalid price counted', async () => (await h.counter('pw_ingest_rejected_total', { reason: 'invalid_price' })) === 1);
    expect((await h.store.getPrice('copper-cathode'))?.price).toBe(9000);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'stale_price' })).toBe(1);
  });

  it('takes FX rates from the price topic family, newest wins, and refuses what does not fit', async () => {
    await h.store.createMqttAccount({ id: 'feed-1', kind: 'feed', siteId: null, passwordHash: await hashPassword('pw-feed'), createdAt: new Date().toISOString() });
    const feed = await h.connect('feed-1', 'pw-feed');
    const rate = { base: 'EUR', quote: 'USD', rate: 1.08, at: '2026-11-28T10:00:00.000Z', source: 'ecb' };
    const publish = (body: unknown, topic = topics.fx('EUR', 'USD')) => feed.publishAsync(topic, JSON.stringify(body), { qos: 1 });
    await publish(rate);
    await publish({ ...rate, rate: 2, at: '2026-11-28T09:00:00.000Z' }); // older
    await publish({ ...rate, rate: 0 }); // not a rate
    await publish({ ...rate, base: 'GBP' }); // another pair than the topic's
    await publish({ ...rate, at: '2099-01-01T00:00:00.000Z' }); // from the future
    await waitFor('refusals counted', async () => (await h.counter('pw_ingest_rejected_total', { reason: 'invalid_fx' })) === 2);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'pair_mismatch' })).toBe(1);
    expect(await h.counter('pw_ingest_rejected_total', { reason: 'stale_fx' })).toBe(1);
    expect(await h.store.getFxRate('EUR', 'USD')).toEqual(rate);
    const at = Date.parse(rate.at);
    expect(await h.series.query({ measurement: 'fx', field: 'rate', tags: { base: 'EUR', quote: 'USD' }, from: at, to: at + 1, stepMs: 1 })).toEqual([{ time: at, value: 1.08 }]);
  });
});
