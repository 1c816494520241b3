import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGateway, copperPrice, EPC, registration, seedState, startHarness, T0, type Harness } from './harness.ts';

const HOUR = 3600_000;
const iso = (offsetMs: number) => new Date(Date.parse(T0) + offsetMs).toISOString();

describe('prices', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    h = await startHarness({ maxPriceAgeMs: 2 * HOUR });
    key = await h.keyFor('bank-a');
  });
  afterEach(async () => h.close());

  it('records a price and returns the latest one', async () => {
    const posted = await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, '2026-03-01T09:00:00+01:00') });
    expect(posted.status).toBe(201);
    expect(posted.json).toMatchObject({ price: 8000, at: T0, stale: false }); // stored as UTC with milliseconds

    const got = await h.call('GET', '/v1/prices/copper-cathode', { key });
    expect(got.status).toBe(200);
    expect(got.json).toEqual({ ...copperPrice(8000, T0), stale: false });

    expect((await h.call('GET', '/v1/prices/nickel', { key })).json).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('refuses an older price with 409, and takes a repeat of the recorded one as success', async () => {
    expect((await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, iso(0)) })).status).toBe(201);
    const older = await h.call('POST', '/v1/prices', { key, body: copperPrice(7000, iso(-HOUR)) });
    expect(older.status).toBe(409);
    expect(older.type).toBe('application/problem+json');
    expect(older.json).toMatchObject({ code: 'PRICE_OUT_OF_ORDER', type: 'https://pledgewatch.dev/problems/price-out-of-order' });
    expect((await h.call('POST', '/v1/prices', { key, body: copperPrice(7500, iso(0)) })).status).toBe(409);
    expect((await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, iso(0)) })).status).toBe(200);
    expect((await h.call('GET', '/v1/prices/copper-cathode', { key })).json.price).toBe(8000);
  });

  it('refuses a price from the future and a malformed one with 400', async () => {
    const future = await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, iso(HOUR)) });
    expect(future.status).toBe(400);
    expect(future.json.errors).toEqual([{ path: '/at', reason: 'lies in the future' }]);
    const bad = await h.call('POST', '/v1/prices', { key, body: { ...copperPrice(-1, iso(0)), currency: 'usd' } });
    expect(bad.status).toBe(400);
    expect((bad.json.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['/currency', '/price']);
  });

  it('marks a price older than the maximum age stale, and counts nothing eligible at it', async () => {
    await addGateway(h.store, 'gw-1', 'wh-shanghai-1');
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    const seen = { gatewayId: 'gw-1', siteId: 'wh-shanghai-1', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0 };
    await seedState(h.store, [{ epc: EPC(1), ...seen }]);
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    const fresh = await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key });
    expect(fresh.json).toMatchObject({ price: { stale: false }, marketValue: 20_000, eligibleValue: 17_000 });

    h.clock.advance(3 * HOUR);
    const stale = await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key });
    expect(stale.json).toMatchObject({
      at: iso(3 * HOUR),
      price: { value: 8000, stale: true },
      eligibleValue: 0,
      ltv: null,
      status: 'liquidation',
    });
    expect(stale.json.issues).toEqual([expect.stringContaining('older than its maximum age')]);
    expect((await h.call('GET', '/v1/prices/copper-cathode', { key })).json.stale).toBe(true);
  });
});

describe('maximum price age per commodity', () => {
  it('holds a commodity to its own maximum age, in the price and in the valuation; others keep the default', async () => {
    const h = await startHarness({ maxPriceAgeMs: 2 * HOUR, maxPriceAgeByCommodityMs: { 'copper-cathode': HOUR / 2 } });
    try {
      const key = await h.keyFor('bank-a');
      await addGateway(h.store, 'gw-1', 'wh-shanghai-1');
      await h.call('POST', '/v1/pledges', { key, body: registration() });
      await seedState(h.store, [{ epc: EPC(1), gatewayId: 'gw-1', siteId: 'wh-shanghai-1', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0 }]);
      await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
      await h.call('POST', '/v1/prices', { key, body: { ...copperPrice(700, T0), commodity: 'steel-coil' } });
      h.clock.advance(HOUR);
      expect((await h.call('GET', '/v1/prices/copper-cathode', { key })).json.stale).toBe(true);
      expect((await h.call('GET', '/v1/prices/steel-coil', { key })).json.stale).toBe(false);
      expect((await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key })).json).toMatchObject({ price: { stale: true }, eligibleValue: 0 });
    } finally {
      await h.close();
    }
  });
});
