/**
 * The central side on its production backends, end to end: an edge agent with a simulated reader →
 * a real Mosquitto (the shipped config, accounts written by the provisioning code) → ingest on its
 * worker thread → InfluxDB for series and SQLite for state → the HTTP API. Also: InfluxDB stopped for
 * a while costs no state and no points, and the `pledgewatch` processes work against these servers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Valuation } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { findServer, influxDatabaseUrl, startInfluxd, startMosquitto, suiteTitle, type ServerProcess } from '@pledgewatch/common/testing-servers';
import { createWarehouse, demoEpcs, type Warehouse } from '@pledgewatch/simulators';
import { openInfluxSeries, type SeriesStore } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStores, startCentral, type Central } from '../src/central.ts';
import { loadCentralConfig } from '../src/config.ts';
import { createApiKey, createBrokerUser, createMqttAccount } from '../src/provision.ts';
import { copperPledge } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/pledgewatch.js', import.meta.url));
const mosquittoBin = findServer('mosquitto', 'PW_TEST_MOSQUITTO_BIN');
// This suite stops and starts InfluxDB, so it needs a server of its own even when CI shares one.
const influxdBin = findServer('influxd', 'PW_TEST_INFLUXD_BIN');
const missing = !mosquittoBin.ok ? mosquittoBin : influxdBin;
const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const EPCS = demoEpcs(5, 20);

describe.skipIf(!mosquittoBin.ok || !influxdBin.ok)(suiteTitle('the central side on Mosquitto and InfluxDB', missing), () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let influx: ServerProcess;
  let influxUrl: string;
  let dir: TempDir;
  let central: Central;
  let warehouse: Warehouse;
  let reader: SeriesStore;
  let key: string;

  const files = () => ({ passwordFile: broker.passwordFile, aclFile: broker.aclFile });
  const canLogIn = async (username: string, password: string) => {
    const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0 });
    await c.endAsync();
    return true;
  };
  const api = async <T,>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${central.apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const value = async () => (await api<Valuation>('/v1/pledges/PL-PROD/value')).body;
  /** The pledge's quantity history as InfluxDB holds it, one sample per 100 ms bucket. */
  const history = (field: string) =>
    reader.query({ measurement: 'pledge_quantity', field, tags: { pledgeId: 'PL-PROD' }, from: Date.now() - 600_000, to: Date.now() + 1_000, stepMs: 100 });
  const metric = async (line: string) => (await (await fetch(`${central.apiUrl}/metrics`)).text()).split('\n').find((l) => l.startsWith(line));

  beforeAll(async () => {
    if (!mosquittoBin.ok || !influxdBin.ok) return;
    [broker, influx] = await Promise.all([startMosquitto(mosquittoBin.bin), startInfluxd(influxdBin.bin)]);
    dir = tempDir('pw-prod-');
    influxUrl = influxDatabaseUrl(influx.url);
    // Provisioning as an operator does it before the first start: ingest's account, a gateway, a key.
    const base = { dataDir: dir.path, influxUrl, mosquittoPasswordFile: broker.passwordFile, mosquittoAclFile: broker.aclFile };
    const { store, series } = await openStores(loadCentralConfig({ flags: base }));
    const ingestPassword = await createBrokerUser(store, 'pw-ingest', files());
    const gatewayPassword = await createMqttAccount(store, 'gw-prod', 'gateway', 'site-prod', { mosquitto: files() });
    key = await createApiKey(store, 'bank-prod');
    await series.close();
    await store.close();
    broker.reload();
    await waitFor('Mosquitto to take the new accounts', () => canLogIn('gw-prod', gatewayPassword));

    const mqttUrl = `mqtt://pw-ingest:${encodeURIComponent(ingestPassword)}@127.0.0.1:${broker.port}`;
    central = await startCentral(loadCentralConfig({ flags: { ...base, mqttUrl, httpPort: 0, logLevel: 'silent' } }), logger);
    reader = openInfluxSeries({ url: influxUrl });
    warehouse = createWarehouse({
      gatewayId: 'gw-prod',
      zones: { A1: EPCS, B1: [] },
      url: broker.url,
      password: gatewayPassword,
      dataDir: dir.file('edge'),
      logger,
      roundMs: 100,
      missProbability: 0.1,
      absenceTimeoutS: 1.5,
    });
    await warehouse.agent.start();
  });

  afterAll(async () => {
    await warehouse?.agent.stop();
    await central?.stop();
    await reader?.close();
    await broker?.remove();
    await influx?.remove();
    dir?.remove();
  });

  it('values a pledge from what the edge agent sends through Mosquitto, and keeps its history in InfluxDB', async () => {
    expect(central.mqttUrl).toContain(`:${broker.port}`);
    const registered = await api('/v1/pledges', {
      method: 'POST',
      body: JSON.stringify(copperPledge({ id: 'PL-PROD', siteId: 'site-prod', items: EPCS.map((epc) => ({ epc, quantity: 2.5 })) })),
    });
    expect(registered.status).toBe(201);
    const price = { commodity: 'copper-cathode', price: 9000, currency: 'USD', unit: 't', at: new Date().toISOString(), source: 'prod' };
    expect((await api('/v1/prices', { method: 'POST', body: JSON.stringify(price) })).status).toBe(201);

    const full = await waitFor('all 20 coils present', async () => {
      const v = await value();
      return v.quantity.present === 50 && v;
    }, 20_000);
    expect(full.eligibleValue).toBe(382_500);
    await waitFor('the quantity in InfluxDB', async () => (await history('present')).some((s) => s.value === 50), 20_000);
    expect(await metric('pw_ingest_events_total')).toBeDefined();
  });

  it('keeps valuing while InfluxDB is down, and writes the points of the outage once it is back', async () => {
    await influx.stop();
    warehouse.reader.removeTags(EPCS.slice(0, 4));
    // State does not wait for the time series: the API sees the loss while InfluxDB is away.
    await waitFor('4 coils missing', async () => (await value()).quantity.missing === 10, 20_000);
    await waitFor('series writes retried', async () => Number((await metric('pw_series_write_retries_total'))?.split(' ')[1] ?? 0) > 0, 20_000);
    expect((await history('missing').catch(() => [])).some((s) => s.value === 10)).toBe(false);

    const backAt = Date.now();
    await influx.start();
    // A point timed during the outage: written late, not lost (later checkpoints may add newer ones).
    await waitFor('the outage written to InfluxDB', async () => (await history('missing')).some((s) => s.value === 10 && s.time < backAt), 30_000);
    expect(await metric('pw_series_dropped_points_total{reason="buffer_full"}')).toBe('pw_series_dropped_points_total{reason="buffer_full"} 0');
  });

  it('runs `pledgewatch gateway create` and `start` as processes against the same servers', async () => {
    const env = { ...process.env, PW_DATA_DIR: dir.path, PW_MOSQUITTO_PASSWORD_FILE: broker.passwordFile, PW_MOSQUITTO_ACL_FILE: broker.aclFile };
    const gw = spawnSync(process.execPath, [BIN, 'gateway', 'create', 'gw-cli', '--site', 'site-prod'], { encoding: 'utf8', env, timeout: 30_000 });
    expect(gw.status).toBe(0);
    expect(gw.stderr).toMatch(/SIGHUP/);
    const password = gw.stdout.trim().split('\n').at(-1) ?? '';
    expect(readFileSync(broker.passwordFile, 'utf8')).toMatch(/^gw-cli:\$7\$101\$/m);
    expect(readFileSync(broker.aclFile, 'utf8')).toContain('user gw-cli\ntopic write pw/v1/gw/gw-cli/#');
    broker.reload();
    await waitFor('gw-cli accepted by Mosquitto', () => canLogIn('gw-cli', password));

    // A second ingest account: two processes under one account would take over each other's session.
    const user = spawnSync(process.execPath, [BIN, 'broker-user', 'create', 'pw-ingest-2'], { encoding: 'utf8', env, timeout: 30_000 });
    expect(user.status).toBe(0);
    const ingestPassword = user.stdout.trim().split('\n').at(-1) ?? '';
    broker.reload();
    await waitFor('pw-ingest-2 accepted by Mosquitto', () => canLogIn('pw-ingest-2', ingestPassword));

    const second = tempDir('pw-prod-cli-');
    const child = spawn(process.execPath, [BIN, 'start', '--http-port', '0'], {
      env: {
        ...process.env,
        PW_DATA_DIR: second.path,
        PW_MQTT_URL: `mqtt://pw-ingest-2:${encodeURIComponent(ingestPassword)}@127.0.0.1:${broker.port}`,
        PW_INFLUX_URL: influxDatabaseUrl(influx.url),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const apiUrl = await waitFor('the API URL in the start log', () => /"apiUrl":"([^"]+)"/.exec(out)?.[1], 20_000);
      await waitFor('ready (ingest connected to Mosquitto)', async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 20_000);
      expect(out).toContain('"series":"influx"');
      expect(out).not.toContain(ingestPassword);
    } finally {
      child.kill('SIGTERM');
      await exited;
      second.remove();
    }
    expect(await exited).toBe(0);
  });
});
