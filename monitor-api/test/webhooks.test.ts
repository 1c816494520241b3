import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteWebhooks, type WebhookStore } from '@pledgewatch/store';
import { AddressGuard, isSecret } from '@pledgewatch/webhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let webhooks: WebhookStore;
let dir: string;
let key: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pw-api-wh-'));
  webhooks = openSqliteWebhooks({ path: join(dir, 'state.db') });
  h = await startHarness({ dir, webhooks: { store: webhooks, guard: new AddressGuard({ allow: ['127.0.0.1'] }) } });
  key = await h.keyFor('bank-a');
});
afterEach(async () => {
  await h.close();
  await webhooks.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/v1/webhooks', () => {
  it('registers an endpoint, shows its secret once, lists, rotates and deletes it', async () => {
    const created = await h.call('POST', '/v1/webhooks', { key, body: { url: 'http://127.0.0.1:9/hook', events: ['alert.opened'] } });
    expect(created.status).toBe(201);
    const secret = created.json.secret as string;
    expect(isSecret(secret)).toBe(true);
    const id = created.json.id as string;
    const list = await h.call('GET', '/v1/webhooks', { key });
    expect(list.json.items).toEqual([expect.objectContaining({ id, url: 'http://127.0.0.1:9/hook', events: ['alert.opened'], status: 'active' })]);
    expect(list.text).not.toContain(secret);

    const rotated = await h.call('POST', `/v1/webhooks/${id}/rotate-secret`, { key });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(secret);
    expect(rotated.json.previousSecretExpiresAt).toBe('2026-03-02T08:00:00.000Z');
    const stored = await webhooks.getEndpoint('bank-a', id);
    expect(stored?.secrets.map((s) => s.secret)).toEqual([rotated.json.secret, secret]);

    expect((await h.call('DELETE', `/v1/webhooks/${id}`, { key })).status).toBe(204);
    expect((await h.call('GET', `/v1/webhooks/${id}`, { key })).status).toBe(404);
  });

  it('refuses internal URLs, bad schemes and unknown event types, naming the field', async () => {
    const internal = await h.call('POST', '/v1/webhooks', { key, body: { url: 'http://169.254.169.254/latest', events: [] } });
    expect(internal.status).toBe(422);
    expect(internal.json).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', errors: [{ path: '/url' }] });
    const scheme = await h.call('POST', '/v1/webhooks', { key, body: { url: 'file:///etc/passwd', events: [] } });
    expect(scheme.status).toBe(422);
    const badType = await h.call('POST', '/v1/webhooks', { key, body: { url: 'http://127.0.0.1/x', events: ['alert.exploded'] } });
    expect(badType.status).toBe(400);
    expect(JSON.stringify(badType.json.errors)).toContain('/events/0');
  });

  it("keeps tenants apart: another tenant's endpoint, deliveries and replays are 404", async () => {
    const created = await h.call('POST', '/v1/webhooks', { key, body: { url: 'http://127.0.0.1:9/hook', events: [] } });
    const id = created.json.id as string;
    const other = await h.keyFor('bank-b');
    expect((await h.call('GET', `/v1/webhooks/${id}`, { key: other })).status).toBe(404);
    expect((await h.call('GET', `/v1/webhooks/${id}/deliveries`, { key: other })).status).toBe(404);
    expect((await h.call('DELETE', `/v1/webhooks/${id}`, { key: other })).status).toBe(404);
    expect((await h.call('GET', '/v1/webhooks', { key: other })).json.items).toEqual([]);
  });

  it('shows the delivery log with every attempt and replays a delivery', async () => {
    const created = await h.call('POST', '/v1/webhooks', { key, body: { url: 'http://127.0.0.1:9/hook', events: [] } });
    const id = created.json.id as string;
    await webhooks.fanOut(
      [{ id: 'dlv_1', endpointId: id, tenant: 'bank-a', eventId: 'evt_1', eventType: 'alert.opened', orderingKey: 'PL-1', body: '{}', createdAt: '2026-03-01T08:00:00.000Z' }],
      1,
      h.clock.now(),
    );
    const [claimed] = await webhooks.claimDue(h.clock.now(), 60_000, 10);
    await webhooks.recordAttempt(
      { deliveryId: claimed?.id ?? '', attempt: { at: '2026-03-01T08:00:00.000Z', statusCode: 500, latencyMs: 12, error: null }, status: 'failed', nextAttemptAt: null },
      h.clock.now(),
    );
    const log = await h.call('GET', `/v1/webhooks/${id}/deliveries`, { key });
    expect(log.json.items).toEqual([
      expect.objectContaining({ id: 'dlv_1', eventId: 'evt_1', status: 'failed', attempts: 1, attemptLog: [expect.objectContaining({ n: 1, statusCode: 500, latencyMs: 12 })] }),
    ]);
    const replay = await h.call('POST', `/v1/webhooks/${id}/deliveries/dlv_1/redeliver`, { key });
    expect(replay.status).toBe(202);
    expect(replay.json).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await h.call('POST', `/v1/webhooks/${id}/deliveries/dlv_9/redeliver`, { key })).status).toBe(404);
  });
});
