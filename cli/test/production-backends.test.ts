/**
 * The central side on its production backends, end to end: an edge agent with a simulated reader →
 * a real Mosquitto (the shipped config, accounts written by the provisioning code) → ingest on its
 * worker thread → InfluxDB for series and PostgreSQL for state → the HTTP API, and the alert that
 * causes as a signed webhook delivered from PostgreSQL. Also: InfluxDB stopped for a while costs no
 * state and no points; two `pledgewatch start --roles api` processes on the same database see what
 * the other and the central process write; a second ingest on that database is refused; and the
 * `pledgewatch` processes work against these servers.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Valuation } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { findServer, influxDatabaseUrl, startInfluxd, startMosquitto, suiteTitle, type ServerProcess } from '@pledgewatch/common/testing-servers';
import { createWarehouse, demoEpcs, type Warehouse } from '@pledgewatch/simulators';
import { openInfluxSeries, type SeriesStore } from '@pledgewatch/store';
import { postgresAvailable, postgresForTests, type PostgresForTests } from '@pledgewatch/store/testing';
import mqtt from 'mqtt';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Received, type Receiver } from '../../webhooks/test/receiver.ts';
import { openStores, startCentral, type Central } from '../src/central.ts';
import { loadCentralConfig } from '../src/config.ts';
import { createApiKey, createBrokerUser, createMqttAccount } from '../src/provision.ts';
import { copperPledge } from './fixtures.ts';
import { BIN, runCli, spawnStart, type StartedProcess } from './processes.ts';

const mosquittoBin = findServer('mosquitto', 'PW_TEST_MOSQUITTO_BIN');
// This suite stops and starts InfluxDB, so it needs a server of its own even when CI shares one.
const influxdBin = findServer('influxd', 'PW_TEST_INFLUXD_BIN');
const missing = [mosquittoBin, influxdBin, postgresAvailable].find((a) => !a.ok) ?? { ok: true as const };
const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
const EPCS = demoEpcs(5, 20);

interface AlertView {
  id: string;
  type: string;
  status: string;
}

describe.skipIf(!missing.ok)(suiteTitle('the central side on Mosquitto, InfluxDB and PostgreSQL', missing), () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  let influx: ServerProcess;
  let influxUrl: string;
  let postgres: PostgresForTests;
  let databaseUrl: string;
  let dir: TempDir;
  let central: Central;
  let warehouse: Warehouse;
  let reader: SeriesStore;
  let receiver: Receiver;
  let key: string;
  let hook: { id: string; secret: string };

  const files = () => ({ passwordFile: broker.passwordFile, aclFile: broker.aclFile });
  const canLogIn = async (username: string, password: string) => {
    const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0 });
    await c.endAsync();
    return true;
  };
  const api = async <T,>(path: string, init: RequestInit = {}, apiUrl = central.apiUrl): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${apiUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const value = async (apiUrl = central.apiUrl) => (await api<Valuation>('/v1/pledges/PL-PROD/value', {}, apiUrl)).body;
  const post = (path: string, body: unknown, apiUrl = central.apiUrl) => api<Record<string, unknown>>(path, { method: 'POST', body: JSON.stringify(body) }, apiUrl);
  /** The pledge's quantity history as InfluxDB holds it, one sample per 100 ms bucket. */
  const history = (field: string) =>
    reader.query({ measurement: 'pledge_quantity', field, tags: { pledgeId: 'PL-PROD' }, from: Date.now() - 600_000, to: Date.now() + 1_000, stepMs: 100 });
  const metric = async (line: string) => (await (await fetch(`${central.apiUrl}/metrics`)).text()).split('\n').find((l) => l.startsWith(line));

  beforeAll(async () => {
    if (!mosquittoBin.ok || !influxdBin.ok || !postgresAvailable.ok) return;
    [broker, influx, postgres] = await Promise.all([startMosquitto(mosquittoBin.bin), startInfluxd(influxdBin.bin), postgresForTests()]);
    dir = tempDir('pw-prod-');
    influxUrl = influxDatabaseUrl(influx.url);
    databaseUrl = await postgres.createDatabase();
    receiver = await startReceiver();
    // Provisioning as an operator does it before the first start: ingest's account, a gateway, a key.
    const base = { dataDir: dir.path, influxUrl, databaseUrl, mosquittoPasswordFile: broker.passwordFile, mosquittoAclFile: broker.aclFile };
    const { store, series } = await openStores(loadCentralConfig({ flags: base }));
    const ingestPassword = await createBrokerUser(store, 'pw-ingest', files());
    const gatewayPassword = await createMqttAccount(store, 'gw-prod', 'gateway', 'site-prod', { mosquitto: files() });
    key = await createApiKey(store, 'bank-prod');
    await series.close();
    await store.close();
    broker.reload();
    await waitFor('Mosquitto to take the new accounts', () => canLogIn('gw-prod', gatewayPassword));

    const mqttUrl = `mqtt://pw-ingest:${encodeURIComponent(ingestPassword)}@127.0.0.1:${broker.port}`;
    central = await startCentral(loadCentralConfig({ flags: { ...base, mqttUrl, httpPort: 0, logLevel: 'silent', webhookAllow: '127.0.0.1' } }), logger);
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
    await receiver?.close();
    await broker?.remove();
    await influx?.remove();
    await postgres?.close();
    dir?.remove();
  });

  it('values a pledge from what the edge agent sends through Mosquitto, and keeps its history in InfluxDB', async () => {
    expect(central.mqttUrl).toContain(`:${broker.port}`);
    expect([...central.roles]).toEqual(['api', 'ingest', 'webhooks']);
    const endpoint = await post('/v1/webhooks', { url: receiver.url('/risk'), events: [] });
    expect(endpoint.status).toBe(201);
    hook = endpoint.body as { id: string; secret: string };
    const registered = await post(
      '/v1/pledges',
      copperPledge({ id: 'PL-PROD', siteId: 'site-prod', items: EPCS.map((epc) => ({ epc, quantity: 2.5 })), rules: { confirmationDelayS: 1 } }),
    );
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

  it('delivers the loss as a signed webhook from PostgreSQL, with its attempt in the delivery log', async () => {
    const opened = (r: Received) => {
      const body = JSON.parse(r.body) as { type: string; data: { type: string } };
      return body.type === 'alert.opened' && body.data.type === 'QUANTITY_LOSS';
    };
    const got = await waitFor('alert.opened (QUANTITY_LOSS) at the receiver', () => receiver.received.find(opened), 20_000);
    const event = new Webhook(hook.secret).verify(got.body, got.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
    expect(event.data).toMatchObject({ pledgeId: 'PL-PROD', type: 'QUANTITY_LOSS', status: 'open' });
    const log = await waitFor('the delivery recorded as delivered', async () => {
      const { items } = (await api<{ items: { eventId: string; status: string; attempts: unknown[] }[] }>(`/v1/webhooks/${hook.id}/deliveries`)).body;
      const delivered = items.find((d) => d.eventId === got.headers['webhook-id'] && d.status === 'delivered');
      return delivered ?? false;
    });
    expect(log.status).toBe('delivered');
  });

  it('serves one database from several API processes: each sees what the others write', async () => {
    const env = { ...process.env, PW_DATABASE_URL: databaseUrl };
    const apis: StartedProcess[] = [];
    try {
      for (const n of [1, 2]) apis.push(await spawnStart(['--roles', 'api', '--http-port', '0', '--data-dir', dir.file(`api-${n}`)], env));
      const [a, b] = apis.map((p) => p.apiUrl) as [string, string];
      expect(apis[0]?.output()).toContain('"roles":["api"]');
      // The API-only processes serve the lenders' API and readiness, without ingest or a broker.
      expect((await fetch(`${a}/readyz`)).status).toBe(200);

      // A pledge registered through one is read through the other (and the central process).
      const second = copperPledge({ id: 'PL-TWO', siteId: 'site-prod', items: [{ epc: '3034257BF7194E40000FFF01', quantity: 1 }], loan: { outstanding: 1_000, currency: 'USD' } });
      expect((await post('/v1/pledges', second, a)).status).toBe(201);
      expect((await api<{ id: string }>('/v1/pledges/PL-TWO', {}, b)).body.id).toBe('PL-TWO');
      expect((await post('/v1/pledges', second, b)).status).toBe(409);

      // A price posted on one is what the other values at.
      const price = { commodity: 'copper-cathode', price: 9_100, currency: 'USD', unit: 't', at: new Date().toISOString(), source: 'api-1' };
      expect((await post('/v1/prices', price, a)).status).toBe(201);
      expect((await value(b)).price).toMatchObject({ value: 9_100, source: 'api-1' });
      expect((await value(central.apiUrl)).price).toMatchObject({ value: 9_100 });

      // The alert ingest opened, acknowledged through one, is acknowledged for the other; the event the
      // acknowledgement wrote goes out from the central process's dispatcher.
      const { items } = (await api<{ items: AlertView[] }>('/v1/alerts?pledgeId=PL-PROD&status=open', {}, b)).body;
      const loss = items.find((x) => x.type === 'QUANTITY_LOSS');
      if (loss === undefined) throw new Error(`no open QUANTITY_LOSS alert: ${JSON.stringify(items)}`);
      expect((await post(`/v1/alerts/${loss.id}/ack`, {}, a)).status).toBe(200);
      expect((await api<AlertView>(`/v1/alerts/${loss.id}`, {}, b)).body.status).toBe('acknowledged');
      expect((await api<AlertView>(`/v1/alerts/${loss.id}`)).body.status).toBe('acknowledged');
      await waitFor('alert.updated (acknowledged) at the receiver', () =>
        receiver.received.some((r) => {
          const body = JSON.parse(r.body) as { type: string; data: { id: string; status: string } };
          return body.type === 'alert.updated' && body.data.id === loss.id && body.data.status === 'acknowledged';
        }),
      );
    } finally {
      const codes = await Promise.all(apis.map((p) => p.stop()));
      expect(codes).toEqual(apis.map(() => 0));
    }
  }, 120_000);

  it('refuses a second ingest on the same database, naming the conflict', async () => {
    const second = await runCli(['start', '--roles', 'ingest,webhooks', '--http-port', '0', '--data-dir', dir.file('ingest-2')], {
      ...process.env,
      PW_DATABASE_URL: databaseUrl,
      PW_MQTT_URL: `mqtt://nobody:x@127.0.0.1:${broker.port}`,
      PW_LOG_LEVEL: 'warn',
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/another process already runs ingest on this database/);
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
    try {
      // Its own data dir: SQLite state, on the same Mosquitto and InfluxDB.
      const child = await spawnStart(['--http-port', '0'], {
        ...process.env,
        PW_DATA_DIR: second.path,
        PW_MQTT_URL: `mqtt://pw-ingest-2:${encodeURIComponent(ingestPassword)}@127.0.0.1:${broker.port}`,
        PW_INFLUX_URL: influxDatabaseUrl(influx.url),
      });
      try {
        await waitFor('ready (ingest connected to Mosquitto)', async () => (await fetch(`${child.apiUrl}/readyz`)).status === 200, 20_000);
        expect(child.output()).toContain('"series":"influx"');
        expect(child.output()).not.toContain(ingestPassword);
      } finally {
        expect(await child.stop()).toBe(0);
      }
    } finally {
      second.remove();
    }
  });
});
