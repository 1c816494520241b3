import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGateway, itemsOf, registration, seedState, startHarness, T0, type Harness } from './harness.ts';

describe('gateways', () => {
  let h: Harness;
  let key: string;

  beforeEach(async () => {
    h = await startHarness();
    await addGateway(h.store, 'gw-1', 'wh-shanghai-1');
    await addGateway(h.store, 'gw-2', 'wh-shanghai-1', false);
    await addGateway(h.store, 'gw-9', 'wh-elsewhere');
    key = await h.keyFor('bank-a');
    await h.call('POST', '/v1/pledges', { key, body: registration() });
  });
  afterEach(async () => h.close());

  it('lists the gateways at the sites of the tenant pledges, with readers and outbox', async () => {
    const later = '2026-03-01T08:05:00.000Z';
    await seedState(h.store, [], [{ gatewayId: 'gw-1', readerId: 'r1', connected: false, at: later }]);
    const res = await h.call('GET', '/v1/gateways', { key });
    expect(res.status).toBe(200);
    const items = itemsOf(res);
    expect(items.map((g) => g.id)).toEqual(['gw-1', 'gw-2']);
    expect(items[0]).toEqual({
      id: 'gw-1',
      siteId: 'wh-shanghai-1',
      online: true,
      lastSeenAt: T0,
      agentVersion: '0.3.1',
      // the reader.status event is newer than the gateway's status message, so it wins
      readers: [{ readerId: 'r1', connected: false, lastReadAt: T0, at: later }],
      outbox: { depth: 7, dropped: 1 },
    });
    expect(items[1]).toMatchObject({ id: 'gw-2', online: false });

    expect((await h.call('GET', '/v1/gateways/gw-1', { key })).json).toEqual(items[0]);
  });

  it('hides gateways at other sites, and everything from a tenant without pledges', async () => {
    expect((await h.call('GET', '/v1/gateways/gw-9', { key })).status).toBe(404);
    expect((await h.call('GET', '/v1/gateways/gw-nope', { key })).status).toBe(404);
    const stranger = await h.keyFor('bank-b');
    expect((await h.call('GET', '/v1/gateways', { key: stranger })).json).toEqual({ items: [] });
    expect((await h.call('GET', '/v1/gateways/gw-1', { key: stranger })).json).toMatchObject({ code: 'NOT_FOUND' });
  });
});
