/** A central process killed (SIGKILL) while a webhook is in flight delivers it after restart, with the same webhook-id. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isoTime, topics } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import mqtt from 'mqtt';
import { afterEach, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../webhooks/test/receiver.ts';
import { copperPledge } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/pledgewatch.js', import.meta.url));
let dir: TempDir;
let receiver: Receiver;
let child: ChildProcess | undefined;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dir.path], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`pledgewatch ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1) ?? '';
}

async function startCentral(): Promise<{ apiUrl: string; mqttUrl: string }> {
  const proc = spawn(process.execPath, [BIN, 'start', '--data-dir', dir.path, '--http-port', '0', '--mqtt-port', '0', '--webhook-allow', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const apiUrl = await waitFor('API URL', () => /"apiUrl":"([^"]+)"/.exec(out)?.[1], 20_000);
  const mqttUrl = await waitFor('MQTT URL', () => /"mqttUrl":"([^"]+)"/.exec(out)?.[1]);
  return { apiUrl, mqttUrl };
}

afterEach(async () => {
  child?.kill('SIGKILL');
  await receiver.close();
  dir.remove();
});

it('redelivers a webhook that was in flight when the process was killed, with the same webhook-id', async () => {
  dir = tempDir('pw-wh-crash-');
  receiver = await startReceiver();
  receiver.script('/risk', ['hang']);
  const key = cli(['apikey', 'create', '--tenant', 'bank-crash']);
  const password = cli(['gateway', 'create', 'gw-c', '--site', 'site-c']);
  let central = await startCentral();
  const post = (path: string, body: unknown) =>
    fetch(`${central.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/v1/webhooks', { url: receiver.url('/risk'), events: [] })).status).toBe(201);
  const pledge = await post('/v1/pledges', copperPledge({ id: 'PL-C', siteId: 'site-c', zones: ['Z1'], loan: { outstanding: 1, currency: 'USD' } }));
  expect(pledge.status).toBe(201);
  const gw = await mqtt.connectAsync(central.mqttUrl, { username: 'gw-c', password, clientId: 'gw-c' });
  // Ingest follows new pledges by polling: send until the damage alert's webhook is on its way.
  let seq = 0;
  await waitFor('the webhook in flight', async () => {
    const at = isoTime(Date.now());
    const event = { type: 'camera', at, cameraId: 'cam-1', zone: 'Z1', kind: 'damage', confidence: 0.95 };
    await gw.publishAsync(topics.events('gw-c'), JSON.stringify({ v: 1, gatewayId: 'gw-c', seq: ++seq, sentAt: at, events: [event] }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    return receiver.received.length > 0;
  }, 20_000);
  await gw.endAsync();
  const firstId = receiver.received[0]?.headers['webhook-id'];

  child?.kill('SIGKILL');
  await new Promise((r) => child?.once('exit', r));
  central = await startCentral();
  await waitFor('redelivered after the restart', () => receiver.received.length >= 2, 20_000);
  expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([firstId, firstId]);
  child?.kill('SIGTERM');
  await new Promise((r) => child?.once('exit', r));
  child = undefined;
  // Four `pledgewatch` processes start one after the other: on a loaded CI machine that alone can take 30 s.
}, 90_000);
