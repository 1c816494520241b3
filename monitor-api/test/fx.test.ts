import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copperPrice, EPC, registration, seedState, T0, type Harness, startWithTenants } from './harness.ts';

const seen = { gatewayId: 'gw-1', siteId: 'wh-shanghai-1', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0 };
const iso = (offsetMs: number) => new Date(Date.parse(T0) + offsetMs).toISOString();
const fx = (base: string, quote: string, rate: number, at = T0) => ({ base, quote, rate, at, source: 'ECB' });

describe('fx', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    ({ h, key } = await startWithTenants());
    // 10 t present, priced in USD, lent in EUR.
    await h.call('POST', '/v1/pledges', { key, body: registration({ loan: { outstanding: 20_000, currency: 'EUR' } }) });
    await seedState(h.store, [1, 2, 3, 4].map((n) => ({ epc: EPC(n), ...seen })));
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
  });
  afterEach(async () => h.close());

  const value = async () => (await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key })).json;

  it.each([
    ['no rate: nothing eligible, the reason told', [], { marketValue: 0, eligibleValue: 0, ltv: null, status: 'liquidation' }],
    ['a direct USD→EUR rate', [fx('USD', 'EUR', 0.9)], { marketValue: 72_000, eligibleValue: 61_200, ltv: 0.326797, currency: 'EUR' }],
    ['an inverse EUR→USD rate', [fx('EUR', 'USD', 1.25)], { marketValue: 64_000, eligibleValue: 54_400, ltv: 0.367647 }],
    ['the newer of both directions', [fx('USD', 'EUR', 0.9, T0), fx('EUR', 'USD', 1.25, iso(1000))], { marketValue: 64_000 }],
    ['the newest rate of a pair', [fx('USD', 'EUR', 0.9, T0), fx('USD', 'EUR', 0.95, iso(1000))], { marketValue: 76_000, eligibleValue: 64_600 }],
  ])('values in the loan currency: %s', async (_name, rates, expected) => {
    for (const r of rates) expect((await h.call('POST', '/v1/fx', { key, body: r })).status).toBe(201);
    const v = await value();
    expect(v).toMatchObject(expected);
    if (rates.length === 0) expect(v.issues).toEqual(['no FX rate USD→EUR']);
  });

  it('keeps the newest rate per pair: an older one is refused, a repeat is fine', async () => {
    expect((await h.call('POST', '/v1/fx', { key, body: fx('USD', 'EUR', 0.9, iso(1000)) })).status).toBe(201);
    const older = await h.call('POST', '/v1/fx', { key, body: fx('USD', 'EUR', 0.8, T0) });
    expect(older.json).toMatchObject({ status: 409, code: 'FX_RATE_OUT_OF_ORDER' });
    expect((await h.call('POST', '/v1/fx', { key, body: fx('USD', 'EUR', 0.9, iso(1000)) })).status).toBe(200);
    expect((await h.call('GET', '/v1/fx/USD/EUR', { key })).json).toEqual(fx('USD', 'EUR', 0.9, iso(1000)));
    expect((await h.call('GET', '/v1/fx/EUR/USD', { key })).status).toBe(404);
  });

  it('refuses malformed rates with 400', async () => {
    const bad = await h.call('POST', '/v1/fx', { key, body: { ...fx('usd', 'EUR', 0), extra: 1 } });
    expect(bad.status).toBe(400);
    expect((bad.json.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['/base', '/extra', '/rate']);
    expect((await h.call('POST', '/v1/fx', { key, body: fx('EUR', 'EUR', 1) })).json.errors).toEqual([{ path: '/quote', reason: 'same as base' }]);
    expect((await h.call('POST', '/v1/fx', { key, body: fx('USD', 'EUR', 1, iso(3600_000)) })).status).toBe(400);
    expect((await h.call('POST', '/v1/fx', { body: fx('USD', 'EUR', 1) })).status).toBe(401);
  });
});
