/**
 * `npm run bench -- webhook`: latency from an alert-causing event reaching the central broker to the
 * lender's receiver holding the signed webhook, through the real central side (broker, ingest worker,
 * rules, outbox, dispatcher). Measured idle, then while a gateway pushes tag traffic at half of
 * ingest's maximum, measured first in the same run. Each sample is a camera damage event in a fresh zone (DAMAGE opens at
 * once: no confirmation delay is involved).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isoTime, topics } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { startCentral } from '@pledgewatch/cli/central';
import { loadCentralConfig } from '@pledgewatch/cli/config';
import { createApiKey, createMqttAccount } from '@pledgewatch/cli/provision';
import mqtt from 'mqtt';
import pino from 'pino';
import { measureIngest } from './ingest.ts';
import { startGatewayLoad } from './gateway-load.ts';
import { report } from './report.ts';

// Enough that p99 is not simply the slowest sample or two.
const SAMPLES = Number(process.env.PW_BENCH_WEBHOOK_SAMPLES ?? 300);

const ZONES = 2 * SAMPLES + 1;
const ZONES_PER_PLEDGE = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

export async function benchWebhook(): Promise<void> {
  // The load is half of ingest's maximum measured in this run (PW_BENCH_WEBHOOK_LOAD overrides it): of
  // one worker's, since it comes from one site, which one shard serves.
  const given = process.env.PW_BENCH_WEBHOOK_LOAD;
  const LOAD_EVENTS_PER_S = given === undefined ? Math.round((await measureIngest(1, 1)).value / 2) : Number(given);
  const dir = tempDir('pw-bench-webhook-');
  const arrivals = new Map<string, number>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data: { summary?: string; evidence?: { zone?: string }[] } };
      const zone = /zone (Z\d+)/.exec(body.data.summary ?? '')?.[1];
      if (zone !== undefined && !arrivals.has(zone)) arrivals.set(zone, performance.now());
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const config = loadCentralConfig({ flags: { dataDir: dir.path, httpPort: 0, mqttPort: 0, logLevel: 'warn', webhookAllow: '127.0.0.1' } });
  const central = await startCentral(config, pino({ level: 'warn' }));
  const key = await createApiKey(central.store, 'bench');
  const password = await createMqttAccount(central.store, 'gw-b', 'gateway', 'site-b');
  const loadPassword = await createMqttAccount(central.store, 'gw-load', 'gateway', 'site-load');
  const call = (path: string, body: unknown) =>
    fetch(`${central.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await call('/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['alert.opened'] });
  const zones = Array.from({ length: ZONES }, (_, i) => `Z${i + 1}`);
  // A pledge names at most 256 zones: the zones are shared out over as many pledges as that takes.
  for (let p = 0; p * ZONES_PER_PLEDGE < ZONES; p++) {
    const res = await call('/v1/pledges', {
      id: `PL-BENCH-${p}`, borrower: 'b', siteId: 'site-b', zones: zones.slice(p * ZONES_PER_PLEDGE, (p + 1) * ZONES_PER_PLEDGE), commodity: 'copper', unit: 't',
      items: [{ epc: `3034257BF7194E40${String(p + 1).padStart(8, '0')}`, quantity: 1 }], loan: { outstanding: 1, currency: 'USD' }, haircut: 0.1,
      limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
    });
    if (res.status !== 201) throw new Error(`pledge registration failed: ${res.status} ${await res.text()}`);
  }
  await sleep(3000); // ingest picks the pledges up by polling
  const gw = await mqtt.connectAsync(central.mqttUrl, { username: 'gw-b', password, clientId: 'bench-gw-b' });
  let seq = 0;
  const damage = async (zone: string): Promise<number> => {
    const at = isoTime(Date.now());
    const event = { type: 'camera', at, cameraId: 'cam-1', zone, kind: 'damage', confidence: 0.95 };
    const t0 = performance.now();
    await gw.publishAsync(topics.events('gw-b'), JSON.stringify({ v: 1, gatewayId: 'gw-b', seq: ++seq, sentAt: at, events: [event] }), { qos: 1 });
    return t0;
  };
  const measure = async (from: number): Promise<number[]> => {
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const zone = zones[from + i] as string;
      const t0 = await damage(zone);
      const deadline = Date.now() + 10_000;
      while (!arrivals.has(zone) && Date.now() < deadline) await sleep(1);
      const arrived = arrivals.get(zone);
      if (arrived !== undefined) latencies.push(arrived - t0);
      await sleep(20);
    }
    return latencies.sort((a, b) => a - b);
  };
  const idle = await measure(0);

  // Load: tag batches from another site's gateway at LOAD_EVENTS_PER_S, QoS 0, paced, from a worker thread
  // (see gateway-load.ts: a gateway is not on the central side's event loop).
  const load = startGatewayLoad({ url: central.mqttUrl, gatewayId: 'gw-load', password: loadPassword, eventsPerS: LOAD_EVENTS_PER_S, perBatch: 250 });
  await load.started;
  await sleep(1000);
  const loaded = await measure(SAMPLES);
  await load.stop();

  for (const [name, l] of [['idle', idle], ['load', loaded]] as const) {
    report({ bench: 'webhook', metric: `latency_p50_ms_${name}`, value: percentile(l, 0.5), unit: 'ms' });
    report({ bench: 'webhook', metric: `latency_p99_ms_${name}`, value: percentile(l, 0.99), unit: 'ms', ...(name === 'load' ? { baseline: percentile(idle, 0.99) } : {}) });
    report({ bench: 'webhook', metric: `delivered_${name}`, value: l.length, unit: 'webhooks' });
  }
  report({ bench: 'webhook', metric: 'load_events_per_s', value: LOAD_EVENTS_PER_S, unit: '1/s' });

  await gw.endAsync();
  await central.stop();
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  dir.remove();
}
