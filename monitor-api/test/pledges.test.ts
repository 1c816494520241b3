import type { TagState } from '@pledgewatch/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copperPrice, EPC, itemsOf, registration, seedState, T0, type Harness, startWithTenants } from './harness.ts';

const SITE = 'wh-shanghai-1';

function tag(epc: string, over: Partial<TagState> = {}): TagState {
  return {
    epc,
    gatewayId: 'gw-1',
    siteId: SITE,
    zone: 'A1',
    readerId: 'r1',
    present: true,
    lastSeenAt: T0,
    updatedAt: T0,
    ...over,
  };
}

describe('pledges', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    ({ h, key } = await startWithTenants());
  });
  afterEach(async () => h.close());

  it('registers a pledge, then shows it and values it live', async () => {
    const created = await h.call('POST', '/v1/pledges', { key, body: registration() });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/pledges/PL-2026-0001');
    expect(created.json).toMatchObject({ id: 'PL-2026-0001', quantityTolerance: 0.02, scales: [], createdAt: T0 });
    expect(itemsOf(created)[0]).toEqual({ epc: EPC(1), quantity: 2.5 }); // upper-cased
    expect(created.json.tenant).toBeUndefined();

    await seedState(
      h.store,
      [tag(EPC(1)), tag(EPC(2), { zone: 'A2' }), tag(EPC(3), { present: false }), tag(EPC(4), { zone: 'B9' })],
      [{ gatewayId: 'gw-1', readerId: 'r1', connected: true, at: T0 }],
    );
    expect((await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) })).status).toBe(201);

    const value = await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key });
    expect(value.status).toBe(200);
    expect(value.json).toEqual({
      pledgeId: 'PL-2026-0001',
      at: T0,
      quantity: { pledged: 10, present: 5, missing: 2.5, relocated: 2.5, damaged: 0, unknown: 0 },
      price: { value: 8000, currency: 'USD', unit: 't', at: T0, source: 'test-feed', stale: false },
      marketValue: 40_000,
      eligibleValue: 34_000, // 5 t × 8000 × (1 − 0.15)
      outstanding: 20_000,
      currency: 'USD',
      ltv: 0.588235,
      headroom: 5_500, // 34000 × 0.75 − 20000
      status: 'ok',
      issues: [],
    });

    const detail = await h.call('GET', '/v1/pledges/PL-2026-0001', { key });
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({ id: 'PL-2026-0001', borrower: 'Acme Metals', openAlerts: [] });
    expect(detail.json.valuation).toEqual(value.json);
  });

  it('counts the goods of an offline gateway as unknown, not missing', async () => {
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    await seedState(h.store, [tag(EPC(1)), tag(EPC(2))]);
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    await h.store.recordGatewayStatus('gw-1', { v: 1, gatewayId: 'gw-1', online: false, at: T0 }, T0);

    const value = await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key });
    expect(value.json.quantity).toMatchObject({ pledged: 10, present: 0, unknown: 10 });
    expect(value.json).toMatchObject({ eligibleValue: 0, ltv: null, status: 'liquidation' });
  });

  it('lists only the caller tenant pledges and filters by live status, site and borrower', async () => {
    const other = await h.keyFor('bank-b');
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    await h.call('POST', '/v1/pledges', {
      key: other,
      body: registration({ id: 'PL-B-1', borrower: 'Beta', items: [{ epc: EPC(9), quantity: 1 }] }),
    });

    const mine = await h.call('GET', '/v1/pledges', { key });
    expect(mine.status).toBe(200);
    const rows = itemsOf(mine);
    expect(rows.map((p) => p.id)).toEqual(['PL-2026-0001']);
    expect(rows[0]).toMatchObject({ itemCount: 4, valuation: { status: 'liquidation' } });
    expect(rows[0]).not.toHaveProperty('items');

    const q = async (qs: string) => itemsOf(await h.call('GET', `/v1/pledges?${qs}`, { key })).length;
    expect(await q('status=liquidation')).toBe(1); // no price yet: nothing eligible, money owed
    expect(await q('status=ok')).toBe(0);
    expect(await q(`siteId=${SITE}`)).toBe(1);
    expect(await q('siteId=elsewhere')).toBe(0);
    expect(await q('borrower=Acme%20Metals')).toBe(1);
    expect(await q('borrower=Beta')).toBe(0);

    const bad = await h.call('GET', '/v1/pledges?status=fine', { key });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([{ path: '/status', reason: 'must be one of ok, warning, margin_call, liquidation', in: 'querystring' }]);
  });

  it("answers 404 for another tenant's pledge, as for one that does not exist", async () => {
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    const other = await h.keyFor('bank-b');
    for (const path of ['/v1/pledges/PL-2026-0001', '/v1/pledges/PL-2026-0001/value', '/v1/pledges/PL-nope']) {
      const res = await h.call('GET', path, { key: other });
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/problem+json');
      expect(res.json).toMatchObject({ code: 'NOT_FOUND', status: 404, instance: path });
    }
  });

  it('rejects a bad body with 400 problem+json naming each field at fault', async () => {
    const body = registration({ items: [{ epc: 'not-hex', quantity: 1 }] });
    const res = await h.call('POST', '/v1/pledges', { key, body: { ...body, loan: { currency: 'USD' }, extra: 1 } });
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.json).toMatchObject({
      type: 'https://pledgewatch.dev/problems/validation',
      title: 'Invalid request',
      status: 400,
      code: 'VALIDATION',
      instance: '/v1/pledges',
    });
    const paths = (res.json.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/items/0/epc', '/loan/outstanding', '/extra']));

    const terms = await h.call('POST', '/v1/pledges', {
      key,
      body: registration({ limits: { warnLtv: 0.8, marginCallLtv: 0.75, liquidationLtv: 0.85 } }),
    });
    expect(terms.status).toBe(400);
    expect(terms.json.errors).toEqual([{ path: '/limits/warnLtv', reason: 'must be below marginCallLtv' }]);

    const notJson = await h.call('POST', '/v1/pledges', { key, body: '{"id":' });
    expect(notJson).toMatchObject({ status: 400, type: 'application/problem+json', json: { code: 'VALIDATION' } });
  });

  it('rejects a pledge at a site without a gateway with 422', async () => {
    const res = await h.call('POST', '/v1/pledges', { key, body: registration({ siteId: 'wh-nowhere' }) });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'UNKNOWN_SITE', type: 'https://pledgewatch.dev/problems/unknown-site' });
    expect(res.json.errors).toEqual([{ path: '/siteId', reason: 'no gateway is registered at this site' }]);
  });

  it('rejects a duplicate id and a double-pledged EPC with 409, across tenants', async () => {
    expect((await h.call('POST', '/v1/pledges', { key, body: registration() })).status).toBe(201);
    const again = await h.call('POST', '/v1/pledges', { key, body: registration({ items: [{ epc: EPC(50), quantity: 1 }] }) });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('PLEDGE_EXISTS');

    const other = await h.keyFor('bank-b');
    const double = await h.call('POST', '/v1/pledges', {
      key: other,
      body: registration({ id: 'PL-B-2', items: [{ epc: EPC(51), quantity: 1 }, { epc: EPC(3), quantity: 1 }] }),
    });
    expect(double.status).toBe(409);
    expect(double.json).toMatchObject({ code: 'EPC_ALREADY_PLEDGED', errors: [{ path: '/items/1/epc', reason: 'already pledged' }] });
    expect(double.text).not.toContain('PL-2026-0001'); // the other tenant's pledge stays unnamed
  });
});
