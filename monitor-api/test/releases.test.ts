import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copperPrice, EPC, registration, seedState, T0, type Harness, startWithTenants } from './harness.ts';

const seen = { gatewayId: 'gw-1', siteId: 'wh-shanghai-1', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0 };
const PATH = '/v1/pledges/PL-2026-0001';

describe('loan changes and releases', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    ({ h, key } = await startWithTenants());
    // 4 × 2.5 t present at 8000 USD/t, haircut 0.15: eligible 68 000 USD against a loan of 20 000.
    expect((await h.call('POST', '/v1/pledges', { key, body: registration() })).status).toBe(201);
    await seedState(h.store, [1, 2, 3, 4].map((n) => ({ epc: EPC(n), ...seen })));
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
  });
  afterEach(async () => h.close());

  it('accepts a release that keeps the LTV below the margin-call limit, and the valuation honours it', async () => {
    const r = await h.call('POST', `${PATH}/releases`, { key, body: { epcs: [EPC(1).toLowerCase(), EPC(2)], reason: 'sold to Beta' } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ pledgeId: 'PL-2026-0001', epcs: [EPC(1), EPC(2)], reason: 'sold to Beta', createdAt: T0 });
    expect(r.json.valuation).toMatchObject({ eligibleValue: 34_000, ltv: 0.588235, quantity: { pledged: 5, present: 5 } });
    expect(r.headers.get('location')).toBe(`${PATH}/releases/${String(r.json.id)}`);
    expect((await h.call('GET', `${PATH}/value`, { key })).json).toMatchObject({ eligibleValue: 34_000, ltv: 0.588235 });
    expect((await h.call('GET', `${PATH}/releases`, { key })).json.items).toHaveLength(1);
  });

  it('refuses with 409 a release that would reach the limit, with that LTV and the largest releasable quantity', async () => {
    await h.call('POST', `${PATH}/releases`, { key, body: { epcs: [EPC(1), EPC(2)], reason: 'sold' } });
    const refused = await h.call('POST', `${PATH}/releases`, { key, body: { epcs: [EPC(3)], reason: 'sold' } });
    expect(refused.status).toBe(409);
    expect(refused.type).toBe('application/problem+json');
    // 2.5 t left: eligible 17 000, LTV 20 000 / 17 000. The loan needs 20 000 / 0.75 / 6 800 = 3.921569 t present.
    expect(refused.json).toMatchObject({ code: 'RELEASE_BREAKS_LIMIT', ltv: 1.176471, marginCallLtv: 0.75, unit: 't' });
    const max = refused.json.maxQuantity as number;
    expect(max).toBeCloseTo(5 - 20_000 / 0.75 / 6_800, 5);
    expect((await h.call('GET', `${PATH}/releases`, { key })).json.items).toHaveLength(1);
    // The largest quantity is accepted; a millionth more is not.
    expect((await h.call('POST', `${PATH}/releases`, { key, body: { quantity: max + 0.000002, reason: 'x' } })).status).toBe(409);
    expect((await h.call('POST', `${PATH}/releases`, { key, body: { quantity: max, reason: 'bulk sale' } })).status).toBe(201);
  });

  it('takes a repayment into the loan and then allows the release', async () => {
    await h.call('POST', `${PATH}/releases`, { key, body: { epcs: [EPC(1), EPC(2)], reason: 'sold' } });
    const before = await h.store.listPledgesChangedSince(T0);
    expect(before).toEqual([]);
    const paid = await h.call('PATCH', `${PATH}/loan`, { key, body: { outstanding: 10_000 } });
    expect(paid.status).toBe(200);
    expect(paid.json).toMatchObject({ loan: { outstanding: 10_000, currency: 'USD' }, valuation: { outstanding: 10_000, ltv: 0.294118 } });
    // Ingest follows loan changes as it follows registrations.
    expect((await h.store.listPledgesChangedSince(T0)).map((p) => p.loan.outstanding)).toEqual([10_000]);
    expect((await h.call('GET', PATH, { key })).json).toMatchObject({ loan: { outstanding: 10_000 } });
    expect((await h.call('POST', `${PATH}/releases`, { key, body: { epcs: [EPC(3)], reason: 'sold' } })).status).toBe(201);
  });

  it('refuses goods outside the pledge, released twice, too much, nothing, and sub-cent money with 400', async () => {
    const call = (body: unknown) => h.call('POST', `${PATH}/releases`, { key, body });
    expect((await call({ epcs: [EPC(9)], reason: 'x' })).json.errors).toEqual([{ path: '/epcs/0', reason: 'not an item of this pledge' }]);
    await call({ epcs: [EPC(1)], reason: 'x' });
    expect((await call({ epcs: [EPC(1)], reason: 'x' })).json.errors).toEqual([{ path: '/epcs/0', reason: 'already released' }]);
    expect((await call({ quantity: 8, reason: 'x' })).json.errors).toEqual([{ path: '/quantity', reason: 'exceeds what is still pledged (7.5 t)' }]);
    expect((await call({ reason: 'x' })).status).toBe(400);
    expect((await call({ epcs: [EPC(2)] })).status).toBe(400);
    const sub = await h.call('PATCH', `${PATH}/loan`, { key, body: { outstanding: 100.005 } });
    expect(sub.status).toBe(400);
    expect(sub.json.errors).toEqual([{ path: '/outstanding', reason: 'at most 2 decimals in USD' }]);
    expect((await h.call('PATCH', `${PATH}/loan`, { key, body: { outstanding: -1 } })).status).toBe(400);
  });

  it('hides other tenants’ pledges behind 404', async () => {
    const other = await h.keyFor('bank-b');
    expect((await h.call('PATCH', `${PATH}/loan`, { key: other, body: { outstanding: 0 } })).json).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await h.call('POST', `${PATH}/releases`, { key: other, body: { quantity: 1, reason: 'x' } })).status).toBe(404);
    expect((await h.call('GET', `${PATH}/releases`, { key: other })).status).toBe(404);
    expect((await h.call('GET', PATH, { key })).json).toMatchObject({ loan: { outstanding: 20_000 } });
  });
});
