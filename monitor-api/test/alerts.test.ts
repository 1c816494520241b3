import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertRecord as alert, EPC, itemsOf, registration, T0, type Harness, startWithTenants } from './harness.ts';

const at = (offsetS: number) => new Date(Date.parse(T0) + offsetS * 1000).toISOString();

describe('alerts', () => {
  let h: Harness;
  let key: string;
  let other: string;

  beforeEach(async () => {
    ({ h, key, other } = await startWithTenants());
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    await h.call('POST', '/v1/pledges', { key, body: registration({ id: 'PL-2', items: [{ epc: EPC(9), quantity: 1 }] }) });
    await h.call('POST', '/v1/pledges', { key: other, body: registration({ id: 'PL-B', items: [{ epc: EPC(20), quantity: 1 }] }) });
    await h.store.applyAlertChanges([
      { kind: 'open', alert: alert({ id: 'alr-1' }) },
      { kind: 'open', alert: alert({ id: 'alr-2', type: 'DAMAGE', subject: 'zone:A1', severity: 'critical', latched: true, updatedAt: at(60) }) },
      { kind: 'open', alert: alert({ id: 'alr-3', pledgeId: 'PL-2', type: 'MONITORING_GAP', subject: 'gateway:gw-1', updatedAt: at(120) }) },
      { kind: 'open', alert: alert({ id: 'alr-b', tenant: 'bank-b', pledgeId: 'PL-B' }) },
    ]);
  });
  afterEach(async () => h.close());

  it('lists the tenant’s alerts, most recently changed first, filtered by status, pledge, type and time', async () => {
    const ids = async (qs = '') => itemsOf(await h.call('GET', `/v1/alerts${qs}`, { key })).map((a) => a.id);
    expect(await ids()).toEqual(['alr-3', 'alr-2', 'alr-1']);
    expect(await ids('?pledgeId=PL-2026-0001')).toEqual(['alr-2', 'alr-1']);
    expect(await ids('?type=DAMAGE')).toEqual(['alr-2']);
    expect(await ids(`?since=${at(60)}`)).toEqual(['alr-3', 'alr-2']);
    expect(await ids('?status=resolved')).toEqual([]);
    expect(await ids('?limit=1')).toEqual(['alr-3']);
    const [first] = itemsOf(await h.call('GET', '/v1/alerts?type=QUANTITY_LOSS', { key }));
    expect(first).toEqual({
      id: 'alr-1', pledgeId: 'PL-2026-0001', type: 'QUANTITY_LOSS', subject: 'quantity', severity: 'warning', status: 'open',
      openedAt: T0, updatedAt: T0, summary: '2.5 t of 10 t missing (25 %)', occurrences: 1, lastSeenAt: T0,
      evidence: [{ kind: 'missing-tags', at: T0, total: 1, tags: [{ epc: EPC(4), quantity: 2.5, zone: 'A1', readerId: 'r1', lastSeenAt: T0 }] }],
    });
  });

  it('names the query parameter at fault', async () => {
    for (const [qs, path] of [['status=closed', '/status'], ['type=FIRE', '/type'], ['since=yesterday', '/since'], ['limit=0', '/limit']]) {
      const reply = await h.call('GET', `/v1/alerts?${qs}`, { key });
      expect(reply.status).toBe(400);
      expect(reply.type).toBe('application/problem+json');
      expect((reply.json.errors as { path: string }[]).map((e) => e.path)).toEqual([path]);
    }
  });

  it('shows one alert, and answers 404 for another tenant’s alert as for one that does not exist', async () => {
    expect((await h.call('GET', '/v1/alerts/alr-2', { key })).json).toMatchObject({ id: 'alr-2', severity: 'critical' });
    for (const path of ['/v1/alerts/alr-b', '/v1/alerts/alr-b/ack', '/v1/alerts/alr-b/resolve', '/v1/alerts/nope']) {
      const reply = await h.call(path.endsWith('alr-b') || path.endsWith('nope') ? 'GET' : 'POST', path, { key });
      expect(reply.status).toBe(404);
      expect(reply.json.code).toBe('NOT_FOUND');
    }
    expect(itemsOf(await h.call('GET', '/v1/alerts', { key: other })).map((a) => a.id)).toEqual(['alr-b']);
  });

  it('acknowledges and resolves, recording each as an event for webhooks', async () => {
    h.clock.advance(5_000);
    const acked = await h.call('POST', '/v1/alerts/alr-1/ack', { key });
    expect(acked.status).toBe(200);
    expect(acked.json).toMatchObject({ status: 'acknowledged', acknowledgedAt: at(5), updatedAt: at(5) });
    expect((await h.call('POST', '/v1/alerts/alr-1/ack', { key })).json).toEqual(acked.json);
    h.clock.advance(5_000);
    const resolved = await h.call('POST', '/v1/alerts/alr-1/resolve', { key });
    expect(resolved.json).toMatchObject({ status: 'resolved', resolvedAt: at(10), resolvedBy: 'api' });
    expect((await h.call('POST', '/v1/alerts/alr-1/resolve', { key })).json).toEqual(resolved.json);
    const late = await h.call('POST', '/v1/alerts/alr-1/ack', { key });
    expect(late.status).toBe(409);
    expect(late.json.code).toBe('ALERT_RESOLVED');
    const events = (await h.store.eventsAfter(0, 100)).filter((e) => e.alertId === 'alr-1');
    expect(events.map((e) => [e.type, e.data.status])).toEqual([
      ['alert.opened', 'open'],
      ['alert.updated', 'acknowledged'],
      ['alert.resolved', 'resolved'],
    ]);
    expect(itemsOf(await h.call('GET', '/v1/alerts?status=resolved', { key })).map((a) => a.id)).toEqual(['alr-1']);
  });

  it('shows the open and acknowledged alerts inside the pledge', async () => {
    await h.call('POST', '/v1/alerts/alr-2/ack', { key });
    await h.call('POST', '/v1/alerts/alr-1/resolve', { key });
    const detail = await h.call('GET', '/v1/pledges/PL-2026-0001', { key });
    expect((detail.json.openAlerts as { id: string; status: string }[]).map((a) => [a.id, a.status])).toEqual([['alr-2', 'acknowledged']]);
  });
});
