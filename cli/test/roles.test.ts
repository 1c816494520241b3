/**
 * The central side split by roles over one PostgreSQL database, as docker-compose runs it: one process
 * with the embedded broker and ingest, one with the lenders' API, one delivering webhooks. Goods leave
 * the warehouse: ingest raises the alert, the API shows it, the webhook process sends it.
 */
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import { createWarehouse, demoEpcs, type Warehouse } from '@pledgewatch/simulators';
import { postgresAvailable, postgresForTests, type PostgresForTests } from '@pledgewatch/store/testing';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/test/receiver.ts';
import { startCentral, type Central } from '../src/central.ts';
import { loadCentralConfig } from '../src/config.ts';
import { createApiKey, createMqttAccount } from '../src/provision.ts';
import { copperPledge } from './fixtures.ts';

const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const EPCS = demoEpcs(7, 10);

describe.skipIf(!postgresAvailable.ok)(suiteTitle('the central side split by roles on PostgreSQL', postgresAvailable), () => {
  let postgres: PostgresForTests;
  let dir: TempDir;
  let receiver: Receiver;
  let ingest: Central;
  let api: Central;
  let delivery: Central;
  let warehouse: Warehouse;
  let key: string;

  const call = async <T,>(central: Central, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${central.apiUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const metrics = async (central: Central) => (await fetch(`${central.apiUrl}/metrics`)).text();

  beforeAll(async () => {
    postgres = await postgresForTests();
    dir = tempDir('pw-roles-');
    receiver = await startReceiver();
    const databaseUrl = await postgres.createDatabase();
    const start = (roles: string) =>
      startCentral(
        loadCentralConfig({
          flags: {
            roles,
            databaseUrl,
            dataDir: dir.file(roles.replace(/\W/g, '-')),
            httpPort: 0,
            mqttPort: 0,
            logLevel: 'silent',
            webhookAllow: '127.0.0.1',
          },
        }),
        logger,
      );
    ingest = await start('broker,ingest');
    api = await start('api');
    delivery = await start('webhooks');
    const password = await createMqttAccount(api.store, 'gw-roles', 'gateway', 'site-roles');
    key = await createApiKey(api.store, 'bank-roles');
    warehouse = createWarehouse({
      gatewayId: 'gw-roles', zones: { A1: EPCS }, url: ingest.mqttUrl, password, dataDir: dir.file('edge'), logger,
      roundMs: 100, missProbability: 0, absenceTimeoutS: 1,
    });
    await warehouse.agent.start();
  }, 60_000);

  afterAll(async () => {
    await warehouse?.agent.stop();
    for (const central of [delivery, api, ingest]) await central?.stop();
    await receiver?.close();
    await postgres?.close();
    dir?.remove();
  });

  it('runs what each process was given, and nothing else', async () => {
    expect([...ingest.roles]).toEqual(['ingest', 'broker']);
    expect([...api.roles]).toEqual(['api']);
    expect([...delivery.roles]).toEqual(['webhooks']);
    expect(() => api.mqttUrl).toThrow(/runs no ingest/);
    // Without the api role a process answers health, readiness and metrics only.
    for (const central of [ingest, delivery]) {
      expect((await fetch(`${central.apiUrl}/v1/pledges`)).status).toBe(404);
      expect((await fetch(`${central.apiUrl}/healthz`)).status).toBe(200);
    }
    await waitFor('ingest ready (connected to its broker)', async () => (await fetch(`${ingest.apiUrl}/readyz`)).status === 200);
    expect(await metrics(ingest)).toContain('pw_ingest_messages_total');
    expect(await metrics(api)).not.toContain('pw_ingest_messages_total');
  });

  it('raises an alert in the ingest process that the API process shows and the webhook process delivers', async () => {
    const hook = await call<{ id: string; secret: string }>(api, '/v1/webhooks', { url: receiver.url('/risk'), events: ['alert.opened'] });
    expect(hook.status).toBe(201);
    const pledge = copperPledge({
      id: 'PL-ROLES', siteId: 'site-roles', items: EPCS.map((epc) => ({ epc, quantity: 1 })), loan: { outstanding: 1_000, currency: 'USD' },
      rules: { confirmationDelayS: 0 },
    });
    expect((await call(api, '/v1/pledges', pledge)).status).toBe(201);
    await waitFor('all goods present', async () => (await call<{ quantity: { present: number } }>(api, '/v1/pledges/PL-ROLES/value')).body.quantity.present === 10, 15_000);

    warehouse.reader.removeTags(EPCS.slice(0, 3));
    const got = await waitFor('the QUANTITY_LOSS webhook', () =>
      receiver.received.find((r) => (JSON.parse(r.body) as { data: { type: string } }).data.type === 'QUANTITY_LOSS'), 20_000);
    const event = new Webhook(hook.body.secret).verify(got.body, got.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
    expect(event).toMatchObject({ type: 'alert.opened', data: { pledgeId: 'PL-ROLES', type: 'QUANTITY_LOSS' } });
    const { items } = (await call<{ items: { id: string; type: string }[] }>(api, '/v1/alerts?pledgeId=PL-ROLES')).body;
    expect(items.map((a) => a.id)).toContain((event.data as { id: string }).id);
    // Sent by the webhook process: its metrics count the attempt, the ingest process has no dispatcher.
    await waitFor('the attempt counted where it was made', async () => (await metrics(delivery)).includes('pw_webhook_attempts_total{outcome="delivered"} 1'));
    expect(await metrics(ingest)).not.toContain('pw_webhook_attempts_total');
  });
});
