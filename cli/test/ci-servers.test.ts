/**
 * Against the servers .ci/run started from the shipped deploy/ configs (skipped without them, failed
 * without them when CI is set: the other suites start servers of their own): `pledgewatch` provisions a gateway into that Mosquitto's files
 * and that PostgreSQL, `pledgewatch start` runs on that Mosquitto, InfluxDB and PostgreSQL, and a
 * gateway's status reaches the API.
 */
import { spawnSync } from 'node:child_process';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import { influxDatabaseUrl } from '@pledgewatch/common/testing-servers';
import { postgresForTests } from '@pledgewatch/store/testing';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { copperPledge } from './fixtures.ts';
import { BIN, spawnStart, type StartedProcess } from './processes.ts';

const env = process.env;
const shared = [
  'PW_TEST_MQTT_URL',
  'PW_TEST_INFLUX_URL',
  'PW_TEST_DATABASE_URL',
  'PW_TEST_MOSQUITTO_PASSWORD_FILE',
  'PW_TEST_MOSQUITTO_ACL_FILE',
  'PW_TEST_MOSQUITTO_PID',
];
const unset = shared.filter((name) => !env[name]);
const title = 'pledgewatch on the servers .ci/run started';

if (env.CI && unset.length > 0) {
  describe(title, () => {
    it('runs in CI on the servers .ci/run starts', () => {
      expect.fail(`CI is set but ${unset.join(', ')} are not: run the suites through .ci/run`);
    });
  });
}

describe.skipIf(unset.length > 0)(unset.length > 0 ? `${title} — SKIPPED: ${unset.join(', ')} not set (.ci/run sets them)` : title, () => {
  it('provisions a gateway into Mosquitto and PostgreSQL, runs the central side on Mosquitto, InfluxDB and PostgreSQL, and sees the gateway', async () => {
    const dir = tempDir('pw-ci-servers-');
    const postgres = await postgresForTests();
    const brokerUrl = new URL(env.PW_TEST_MQTT_URL ?? '');
    const cliEnv = {
      ...env,
      PW_DATA_DIR: dir.path,
      PW_DATABASE_URL: await postgres.createDatabase(),
      PW_MOSQUITTO_PASSWORD_FILE: env.PW_TEST_MOSQUITTO_PASSWORD_FILE,
      PW_MOSQUITTO_ACL_FILE: env.PW_TEST_MOSQUITTO_ACL_FILE,
    };
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cliEnv, timeout: 30_000 });
    const gw = cli('gateway', 'create', 'gw-ci', '--site', 'site-ci');
    expect(gw.status).toBe(0);
    const password = gw.stdout.trim().split('\n').at(-1) ?? '';
    const key = cli('apikey', 'create', '--tenant', 'bank-ci').stdout.trim().split('\n').at(-1) ?? '';
    process.kill(Number(env.PW_TEST_MOSQUITTO_PID), 'SIGHUP');

    let central: StartedProcess | undefined;
    try {
      central = await spawnStart(['--http-port', '0'], {
        ...cliEnv,
        PW_MQTT_URL: env.PW_TEST_MQTT_URL,
        PW_INFLUX_URL: influxDatabaseUrl(env.PW_TEST_INFLUX_URL ?? ''),
      });
      const { apiUrl } = central;
      await waitFor('ready', async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 20_000);
      expect(central.output()).toContain('"state":"postgres"');
      // A lender sees the gateways at the sites of its pledges.
      const pledge = copperPledge({ id: 'PL-CI', siteId: 'site-ci', loan: { outstanding: 1_000, currency: 'USD' } });
      const registered = await fetch(`${apiUrl}/v1/pledges`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(pledge),
      });
      expect(registered.status).toBe(201);
      const gateway = await waitFor('gw-ci accepted after SIGHUP', async () => {
        const c = await mqtt.connectAsync(`mqtt://${brokerUrl.host}`, { username: 'gw-ci', password, reconnectPeriod: 0 });
        return c;
      });
      const at = new Date().toISOString();
      const status = { v: 1, gatewayId: 'gw-ci', online: true, at, agentVersion: 'ci', readers: [], outbox: { depth: 0, dropped: 0 } };
      await gateway.publishAsync('pw/v1/gw/gw-ci/status', JSON.stringify(status), { qos: 1, retain: true });
      await gateway.endAsync();
      const seen = await waitFor('the gateway online in the API', async () => {
        const res = await fetch(`${apiUrl}/v1/gateways/gw-ci`, { headers: { authorization: `Bearer ${key}` } });
        const body = (await res.json()) as { online?: boolean };
        return body.online === true && body;
      });
      expect(seen).toMatchObject({ id: 'gw-ci', online: true });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- pledgewatch start said:\n${central?.output().split('\n').slice(-15).join('\n') ?? ''}`, { cause: err });
    } finally {
      const code = await central?.stop();
      await postgres.close();
      dir.remove();
      expect(code).toBe(0);
    }
  });
});
