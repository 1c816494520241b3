/** Pledge terms the rules use: bulk quantities, geofences and trackers, rule overrides, releases. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copperPrice, EPC, registration, seedState, T0, type Harness, startWithTenants } from './harness.ts';

const SITE = 'wh-shanghai-1';

describe('pledge terms for the rules', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    ({ h, key } = await startWithTenants());
  });
  afterEach(async () => h.close());

  it('registers bulk goods by quantity and scales, with no items', async () => {
    const { items: _items, ...rest } = registration({ id: 'PL-GRAIN', unit: 't' });
    const created = await h.call('POST', '/v1/pledges', { key, body: { ...rest, quantity: 500, scales: [{ sensorId: 'silo-1', expectedKg: 500_000 }] } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ items: [], quantity: 500, scales: [{ sensorId: 'silo-1', expectedKg: 500_000 }] });
    const value = await h.call('GET', '/v1/pledges/PL-GRAIN/value', { key });
    expect(value.json.quantity).toMatchObject({ pledged: 500, unknown: 500 });
  });

  it.each([
    [{ items: [] }, '/items', 'a pledge needs items, or a bulk quantity with scales'],
    [{ items: [], quantity: 5 }, '/scales', 'a bulk pledge needs at least one scale'],
    [{ quantity: 5 }, '/quantity', 'only for pledges without items (the items carry their quantities)'],
    [{ trackers: ['trk-1'] }, '/geofence', 'trackers need a geofence to be kept in'],
  ])('refuses inconsistent terms %j, naming the field', async (over, path, reason) => {
    const reply = await h.call('POST', '/v1/pledges', { key, body: registration(over) });
    expect(reply.status).toBe(400);
    expect(reply.json.errors).toEqual([{ path, reason }]);
  });

  it('keeps a geofence (circle or polygon), trackers and rule overrides', async () => {
    const circle = { lat: 31.23, lon: 121.47, radiusM: 300 };
    const created = await h.call('POST', '/v1/pledges', { key, body: registration({ geofence: circle, trackers: ['trk-1'], rules: { confirmationDelayS: 30 } }) });
    expect(created.json).toMatchObject({ geofence: circle, trackers: ['trk-1'], rules: { confirmationDelayS: 30 } });
    const polygon = { points: [{ lat: 1, lon: 1 }, { lat: 1, lon: 2 }, { lat: 2, lon: 2 }] };
    const second = await h.call('POST', '/v1/pledges', { key, body: registration({ id: 'PL-2', items: [{ epc: EPC(9), quantity: 1 }], geofence: polygon }) });
    expect(second.json).toMatchObject({ geofence: polygon });
    const bad = await h.call('POST', '/v1/pledges', { key, body: registration({ id: 'PL-3', items: [{ epc: EPC(10), quantity: 1 }], geofence: { lat: 1, lon: 2, radiusM: -5 } }) });
    expect(bad.status).toBe(400);
  });

  it('values a pledge less its releases, as the rules count it', async () => {
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    const tag = (n: number, present = true) => ({ epc: EPC(n), gatewayId: 'gw-1', siteId: SITE, zone: 'A1', readerId: 'r1', present, lastSeenAt: T0, updatedAt: T0 });
    await seedState(h.store, [tag(1), tag(2), tag(3, false), tag(4, false)]);
    await h.store.createRelease({ id: 'REL-1', tenant: 'bank-a', pledgeId: 'PL-2026-0001', epcs: [EPC(3)], reason: 'sold', createdAt: T0 });
    const value = await h.call('GET', '/v1/pledges/PL-2026-0001/value', { key });
    expect(value.json.quantity).toEqual({ pledged: 7.5, present: 5, missing: 2.5, relocated: 0, damaged: 0, unknown: 0 });
  });
});
