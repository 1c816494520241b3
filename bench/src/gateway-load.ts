/**
 * The load gateway of `npm run bench -- webhook`, on a worker thread of its own: real gateways are other
 * machines, and a load generator on the central side's main thread would take turns with the embedded
 * broker it loads (building and sending 30 kB batches hundreds of times a second), so the latency
 * measured would partly be the bench's own. It publishes tag batches at a steady rate (QoS 0, paced)
 * until told to stop, then reports how many batches it sent.
 */
import { isoTime, topics } from '@pledgewatch/common';
import mqtt from 'mqtt';
import { parentPort, Worker, workerData } from 'node:worker_threads';

export interface GatewayLoadSpec {
  url: string;
  gatewayId: string;
  password: string;
  eventsPerS: number;
  perBatch: number;
}

export interface GatewayLoad {
  /** Resolves once the gateway is connected and sending. */
  started: Promise<void>;
  /** Stops sending; resolves with the number of batches sent. */
  stop(): Promise<number>;
}

/** Starts the load on a fresh worker thread (bootstrapped like ingest's, which registers tsx). */
export function startGatewayLoad(spec: GatewayLoadSpec): GatewayLoad {
  const worker = new Worker(new URL('./worker/boot.js', import.meta.resolve('@pledgewatch/ingest')), {
    workerData: { entry: new URL('./gateway-load.ts', import.meta.url).href, spec },
  });
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const started = next().then(() => undefined);
  return {
    started,
    async stop() {
      await started;
      const done = next();
      worker.postMessage('stop');
      const sent = (await done) as number;
      await worker.terminate();
      return sent;
    },
  };
}

async function run(spec: GatewayLoadSpec): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const client = await mqtt.connectAsync(spec.url, { username: spec.gatewayId, password: spec.password, clientId: `bench-${spec.gatewayId}` });
  let loading = true;
  port.once('message', () => (loading = false));
  port.postMessage('started');
  const interval = (1000 * spec.perBatch) / spec.eventsPerS;
  let next = performance.now();
  let seq = 0;
  while (loading) {
    const at = isoTime(Date.now());
    const events = Array.from({ length: spec.perBatch }, (_, i) => ({
      type: 'tag.arrived',
      at,
      epc: `3034257BF7194E41${((seq * spec.perBatch + i) % 10_000).toString(16).padStart(8, '0')}`,
      zone: `L${i % 4}`,
      readerId: 'r1',
    }));
    client.publish(topics.events(spec.gatewayId), JSON.stringify({ v: 1, gatewayId: spec.gatewayId, seq: ++seq, sentAt: at, events }), { qos: 0 });
    next += interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await client.endAsync();
  port.postMessage(seq);
}

if (parentPort !== null && (workerData as { spec?: GatewayLoadSpec } | null)?.spec !== undefined) {
  await run((workerData as { spec: GatewayLoadSpec }).spec);
}
