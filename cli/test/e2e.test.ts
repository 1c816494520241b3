/**
 * End to end on real components: the central side (aedes, ingest, API, SQLite) on port 0, a real edge
 * agent with a simulated reader over real MQTT, a lender's calls over real HTTP.
 */
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import type { Valuation } from '@pledgewatch/common';
import { createWarehouse, demoEpcs, type Warehouse } from '@pledgewatch/simulators';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentral, type Central } from '../src/central.ts';
import { loadCentralConfig } from '../src/config.ts';
import { createApiKey, createMqttAccount } from '../src/provision.ts';
import { copperPledge } from './fixtures.ts';

const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const EPCS = demoEpcs(5, 20);
let dir: TempDir;
let central: Central;
let warehouse: Warehouse;
let key: string;

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${central.apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const value = async () => (await api<Valuation>('/v1/pledges/PL-E2E/value')).body;

beforeAll(async () => {
  dir = tempDir('pw-e2e-');
  const config = loadCentralConfig({ flags: { dataDir: dir.path, httpPort: 0, mqttPort: 0, logLevel: 'silent' } });
  central = await startCentral(config, logger);
  const password = await createMqttAccount(central.store, 'gw-e2e', 'gateway', 'site-e2e');
  key = await createApiKey(central.store, 'bank-e2e');
  warehouse = createWarehouse({
    gatewayId: 'gw-e2e',
    zones: { A1: EPCS, B1: [] },
    url: central.mqttUrl,
    password,
    dataDir: dir.file('edge'),
    logger,
    roundMs: 100,
    missProbability: 0.1,
    absenceTimeoutS: 1.5,
  });
  await warehouse.agent.start();
});

afterAll(async () => {
  await warehouse.agent.stop();
  await central.stop();
  dir.remove();
});

describe('a simulated warehouse seen by a lender over HTTP', () => {
  it('registers a pledge, values it live, and sees quantity and LTV move when goods leave', async () => {
    const start = new Date(Date.now() - 1_000).toISOString();
    const registered = await api('/v1/pledges', {
      method: 'POST',
      body: JSON.stringify(copperPledge({ id: 'PL-E2E', siteId: 'site-e2e', items: EPCS.map((epc) => ({ epc, quantity: 2.5 })) })),
    });
    expect(registered.status).toBe(201);
    const price = { commodity: 'copper-cathode', price: 9000, currency: 'USD', unit: 't', at: new Date().toISOString(), source: 'e2e' };
    expect((await api('/v1/prices', { method: 'POST', body: JSON.stringify(price) })).status).toBe(201);

    const full = await waitFor('all 20 coils present', async () => {
      const v = await value();
      return v.quantity.present === 50 && v;
    });
    expect(full.marketValue).toBe(450_000);
    expect(full.eligibleValue).toBe(382_500);
    expect(full.ltv).toBeCloseTo(0.653595, 5);
    expect(full.status).toBe('warning');

    warehouse.reader.removeTags(EPCS.slice(0, 4));
    const after = await waitFor('4 coils missing', async () => {
      const v = await value();
      return v.quantity.missing === 10 && v;
    });
    expect(after.quantity.present).toBe(40);
    expect(after.eligibleValue).toBe(306_000);
    expect(after.ltv).toBeCloseTo(0.816993, 5);
    expect(after.status).toBe('margin_call');

    // The history ingest wrote to the series store shows the same drop, second by second.
    type Point = { at: string; quantity: { present: number; missing: number } | null; eligibleValue: number | null; ltv: number | null };
    const history = await waitFor('the drop in the history', async () => {
      const res = await api<{ points: Point[] }>(`/v1/pledges/PL-E2E/history?from=${encodeURIComponent(start)}&step=1s`);
      expect(res.status).toBe(200);
      return res.body.points.at(-1)?.quantity?.missing === 10 && res.body.points;
    });
    const present = history.map((p) => p.quantity?.present);
    expect(present).toContain(50);
    expect(present.lastIndexOf(50)).toBeLessThan(present.indexOf(40));
    expect(history.at(-1)).toMatchObject({ quantity: { present: 40, missing: 10 }, eligibleValue: 306_000, ltv: 0.816993 });
  });

  it('keeps working after a malformed batch and counts it', async () => {
    const password = await createMqttAccount(central.store, 'gw-bad', 'gateway', 'site-e2e');
    const client = await mqtt.connectAsync(central.mqttUrl, { username: 'gw-bad', password, clientId: 'gw-bad' });
    await client.publishAsync('pw/v1/gw/gw-bad/events', '{"v":1,"gatewayId":"gw-bad"', { qos: 1 });
    await client.endAsync();
    const metrics = await waitFor('rejection counted', async () => {
      const text = await (await fetch(`${central.apiUrl}/metrics`)).text();
      return text.includes('pw_ingest_rejected_total{reason="malformed_json"} 1') && text;
    });
    expect(metrics).toContain('pw_ingest_events_total');
    warehouse.reader.addTags(warehouse.antennaOf('A1'), EPCS.slice(0, 2));
    await waitFor('goods seen again', async () => (await value()).quantity.present === 45);
  });
});
