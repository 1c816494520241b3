/**
 * The whole promise to a lender's risk system: goods leave a warehouse, or the price falls, an alert
 * opens, and a signed webhook arrives — through the real central side, a real edge agent and a real
 * HTTP receiver.
 */
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { createWarehouse, demoEpcs, type Warehouse } from '@pledgewatch/simulators';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/test/receiver.ts';
import { startCentral, type Central } from '../src/central.ts';
import { loadCentralConfig } from '../src/config.ts';
import { createApiKey, createMqttAccount } from '../src/provision.ts';
import { copperPledge } from './fixtures.ts';

const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const EPCS = demoEpcs(6, 20);
/** Copper for the valuation test, in its own zone: 10 t, so at a price P per t the LTV is 6,000 / P. */
const COPPER = demoEpcs(7, 10);
let dir: TempDir;
let central: Central;
let warehouse: Warehouse;
let receiver: Receiver;
let key: string;

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${central.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = tempDir('pw-e2e-wh-');
  receiver = await startReceiver();
  const config = loadCentralConfig({ flags: { dataDir: dir.path, httpPort: 0, mqttPort: 0, logLevel: 'silent', webhookAllow: '127.0.0.1' } });
  central = await startCentral(config, logger);
  const password = await createMqttAccount(central.store, 'gw-wh', 'gateway', 'site-wh');
  key = await createApiKey(central.store, 'bank-wh');
  warehouse = createWarehouse({
    gatewayId: 'gw-wh', zones: { A1: EPCS, B1: COPPER }, url: central.mqttUrl, password, dataDir: dir.file('edge'), logger,
    roundMs: 100, missProbability: 0, absenceTimeoutS: 1,
  });
  await warehouse.agent.start();
});

afterAll(async () => {
  await warehouse.agent.stop();
  await central.stop();
  await receiver.close();
  dir.remove();
});

it('delivers a signed alert.opened webhook when pledged goods leave', async () => {
  const hook = await api('/v1/webhooks', { method: 'POST', body: { url: receiver.url('/risk'), events: ['alert.opened'] } });
  expect(hook.status).toBe(201);
  const secret = hook.json.secret as string;
  const pledge = await api('/v1/pledges', {
    method: 'POST',
    body: copperPledge({
      id: 'PL-WH', siteId: 'site-wh', items: EPCS.map((epc) => ({ epc, quantity: 1 })), loan: { outstanding: 1000, currency: 'USD' },
      rules: { confirmationDelayS: 0 },
    }),
  });
  expect(pledge.status).toBe(201);
  await waitFor('all goods present', async () => ((await api('/v1/pledges/PL-WH/value')).json.quantity as { present: number }).present === 20, 15_000);

  warehouse.reader.removeTags(EPCS.slice(0, 3));
  const [got] = await waitFor('the webhook', () => receiver.received.length > 0 && receiver.received, 20_000);
  const event = new Webhook(secret).verify(got?.body ?? '', got?.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
  expect(event.type).toBe('alert.opened');
  expect(event.data).toMatchObject({ pledgeId: 'PL-WH', type: 'QUANTITY_LOSS', status: 'open' });

  const hookId = hook.json.id as string;
  const log = await waitFor('delivery logged', async () => {
    const items = (await api(`/v1/webhooks/${hookId}/deliveries`)).json.items as { status: string; eventId: string }[];
    return items.some((d) => d.status === 'delivered') && items;
  });
  expect(log[0]?.eventId).toBe(got?.headers['webhook-id']);
  const alerts = (await api('/v1/alerts?pledgeId=PL-WH')).json.items as { type: string }[];
  expect(alerts.map((a) => a.type)).toContain('QUANTITY_LOSS');
});

it('delivers a margin call and the pledge’s status change when a price posted to the API breaks the limit', async () => {
  const hook = await api('/v1/webhooks', { method: 'POST', body: { url: receiver.url('/ltv'), events: ['alert.opened', 'pledge.status_changed'] } });
  expect(hook.status).toBe(201);
  const verifier = new Webhook(hook.json.secret as string);
  const pledge = await api('/v1/pledges', {
    method: 'POST',
    body: copperPledge({ id: 'PL-LTV', siteId: 'site-wh', zones: ['B1'], items: COPPER.map((epc) => ({ epc, quantity: 1 })), loan: { outstanding: 51_000, currency: 'USD' } }),
  });
  expect(pledge.status).toBe(201);
  await waitFor('copper present', async () => ((await api('/v1/pledges/PL-LTV/value')).json.quantity as { present: number }).present === 10, 15_000);
  const price = (value: number, at: string) => ({ commodity: 'copper-cathode', price: value, currency: 'USD', unit: 't', at, source: 'LME 3M' });
  expect((await api('/v1/prices', { method: 'POST', body: price(7_500, new Date().toISOString()) })).status).toBe(201); // LTV 0.8

  const received = await waitFor('two webhooks', () => {
    const mine = receiver.received.filter((r) => r.path === '/ltv');
    return mine.length >= 2 && mine;
  }, 20_000);
  const events = received.map((r) => verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; data: Record<string, unknown> });
  expect(events.map((e) => e.type)).toEqual(['alert.opened', 'pledge.status_changed']);
  expect(events[0]?.data).toMatchObject({ pledgeId: 'PL-LTV', type: 'MARGIN_CALL', severity: 'critical', status: 'open' });
  expect(events[1]?.data).toMatchObject({
    pledgeId: 'PL-LTV',
    previousStatus: 'ok',
    status: 'margin_call',
    valuation: { ltv: 0.8, eligibleValue: 63_750, outstanding: 51_000, headroom: -3_187.5, status: 'margin_call' },
  });
  // The API values the pledge the same way, from the status ingest published.
  expect((await api('/v1/pledges/PL-LTV/value')).json).toMatchObject({ ltv: 0.8, status: 'margin_call', headroom: -3_187.5 });
  expect(receiver.received.filter((r) => r.path === '/ltv')).toHaveLength(2);
});
