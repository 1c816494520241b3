/**
 * `npm run bench -- edge`: the real edge agent, alone in a child process, consuming ~2,000 tag
 * reads/s from the LLRP reader emulator with 10,000 tags in the field (each tag read once a second,
 * missed 80 % of rounds, as dense pallets are), uplinking to the embedded broker where a subscriber
 * discards the batches. After a warm-up that takes 99 % of the tags' arrivals through to the
 * subscriber (the field is read at random, so seeing every tag once takes ~40 rounds), it measures
 * for PW_BENCH_EDGE_SECONDS (default 60): reads/s taken, the agent's CPU (% of one core), its peak
 * RSS and peak V8 heap. Targets: RSS < 80 MB, CPU < 25 %.
 *
 * The agent runs as gateways run it: the esbuild bundle (`npm run build:edge`) under plain node with
 * the systemd unit's V8 flags (GATEWAY_NODE_FLAGS). PW_BENCH_EDGE_MODE=tsx runs it through tsx instead,
 * as `pledgewatch edge` does from a checkout; PW_BENCH_EDGE_NODE_ARGS replaces the Node flags.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoTime, topics } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { hashPassword, startEmbeddedBroker } from '@pledgewatch/ingest';
import { startLlrpEmulator } from '@pledgewatch/simulators';
import { bundleEdge, GATEWAY_NODE_FLAGS } from '@pledgewatch/edge-agent/bundle';
import { openSqliteState } from '@pledgewatch/store';
import mqtt from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ChildMessage, EdgeSample, ParentMessage } from './edge-child.ts';
import { report } from './report.ts';

const TAGS = 10_000;
const ANTENNAS = 4;
const ROUND_MS = 1000;
/** 10,000 tags × (1 − 0.8) per 1 s round = 2,000 reads/s */
const MISS = 0.8;
const SECONDS = Number(process.env.PW_BENCH_EDGE_SECONDS ?? 60);
const GATEWAY = 'gw-bench-edge';
const CHILD = join(import.meta.dirname, 'edge-child.ts');

const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epc = (n: number) => `3034257BF7194E40${n.toString(16).toUpperCase().padStart(8, '0')}`;

/** The agent in its own process, answering samples over IPC. */
class AgentProcess {
  private readonly child: ChildProcess;
  private readonly waiting: ((message: ChildMessage) => void)[] = [];

  constructor(script: string, configPath: string, execArgv: readonly string[]) {
    this.child = fork(script, [configPath], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: ChildMessage) => this.waiting.shift()?.(message));
  }

  next(kind: ChildMessage['kind']): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`edge agent process exited (${code}) while the bench waited for "${kind}"`));
      this.child.once('exit', onExit);
      this.waiting.push((message) => {
        this.child.off('exit', onExit);
        resolve(message);
      });
    });
  }

  async sample(): Promise<EdgeSample> {
    const reply = this.next('sample');
    this.child.send({ kind: 'sample' } satisfies ParentMessage);
    const message = await reply;
    if (message.kind !== 'sample') throw new Error(`expected a sample, got ${message.kind}`);
    return message.sample;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ kind: 'stop' } satisfies ParentMessage);
    await exited;
  }
}

export async function benchEdge(): Promise<void> {
  const dir = tempDir('pw-bench-edge-');
  const logger = pino({ level: 'warn' });
  const store = openSqliteState({ path: dir.file('state.db') });
  const service = { username: 'pw-ingest', password: 'bench' };
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry: new Registry(), service });
  await store.createMqttAccount({ id: GATEWAY, kind: 'gateway', siteId: 'site-1', passwordHash: await hashPassword('gw'), createdAt: isoTime(Date.now()) });

  // The discarding subscriber: counts events, keeps nothing.
  const subscriber = await mqtt.connectAsync(broker.url, { ...service, clientId: 'bench-edge-sink' });
  let arrivals = 0;
  subscriber.on('message', (_topic, payload) => {
    const batch = JSON.parse(payload.toString('utf8')) as { events: { type: string }[] };
    for (const e of batch.events) if (e.type === 'tag.arrived') arrivals++;
  });
  await subscriber.subscribeAsync(topics.allEvents, { qos: 1 });

  const field: Record<string, string[]> = {};
  for (let n = 0; n < TAGS; n++) (field[String(1 + (n % ANTENNAS))] ??= []).push(epc(n));
  const emulator = await startLlrpEmulator({ port: 0, tags: field, reportEveryMs: ROUND_MS, missProbability: MISS, tagsPerReport: 100 });

  const configPath = dir.file('edge.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      gatewayId: GATEWAY,
      dataDir: dir.file('edge'),
      uplink: { url: broker.url, password: 'gw' },
      readers: [
        {
          id: 'dock',
          driver: 'llrp',
          antennas: Object.fromEntries(Array.from({ length: ANTENNAS }, (_, i) => [String(i + 1), `Z${i + 1}`])),
          llrp: { host: '127.0.0.1', port: emulator.port, roundMs: ROUND_MS },
        },
      ],
    }),
  );
  const viaTsx = process.env.PW_BENCH_EDGE_MODE === 'tsx';
  const given = process.env.PW_BENCH_EDGE_NODE_ARGS;
  const nodeArgs = given === undefined ? (viaTsx ? [] : [...GATEWAY_NODE_FLAGS]) : given.split(' ').filter((arg) => arg !== '');
  let script = CHILD;
  if (!viaTsx) {
    // Inside the checkout, so the native addons left out of the bundle resolve from its node_modules.
    script = join(import.meta.dirname, '..', '..', 'dist', 'bench-edge-child.mjs');
    await bundleEdge(CHILD, script);
  }
  const agent = new AgentProcess(script, configPath, viaTsx ? [...nodeArgs, '--import', 'tsx'] : nodeArgs);
  try {
    await agent.next('started');
    // Warm-up: the tags arrive (tag.arrived through presence, outbox and uplink), then steady state.
    const t0 = performance.now();
    while (arrivals < TAGS * 0.99) {
      if (performance.now() - t0 > 120_000) throw new Error(`only ${arrivals} of ${TAGS} arrivals reached the broker in 120 s`);
      await sleep(100);
    }
    await sleep(2000);

    const first = await agent.sample();
    let [peakRss, peakHeap] = [first.rssBytes, first.heapUsedBytes];
    const end = performance.now() + SECONDS * 1000;
    let last = first;
    while (performance.now() < end) {
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
      last = await agent.sample();
      peakRss = Math.max(peakRss, last.rssBytes);
      peakHeap = Math.max(peakHeap, last.heapUsedBytes);
    }
    const wallS = (last.at - first.at) / 1000;
    report({ bench: 'edge', metric: 'reads_per_s', value: (last.reads - first.reads) / wallS, unit: '1/s' });
    report({ bench: 'edge', metric: 'cpu_pct', value: ((last.cpuMicros - first.cpuMicros) / 1e6 / wallS) * 100, unit: '%' });
    report({ bench: 'edge', metric: 'rss_mb', value: peakRss / MB, unit: 'MB' });
    report({ bench: 'edge', metric: 'heap_mb', value: peakHeap / MB, unit: 'MB' });
  } finally {
    await agent.stop();
    await emulator.close();
    await subscriber.endAsync();
    await broker.close();
    await store.close();
    dir.remove();
  }
}
