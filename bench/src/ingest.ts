/**
 * `npm run bench -- ingest`: tag events per second through the embedded broker into ingest
 * (validate, dedup, state commit, series write), against a bare mqtt.js subscribe-and-discard
 * client on the same broker with the same payloads, in the same run. Gateways stand at several sites,
 * as a central deployment serves many: ingest runs with the worker threads `pledgewatch start` would
 * give it (ingestWorkers, PW_INGEST_WORKERS overrides), each a shard of the sites; the figure of one
 * worker is printed too, measured the same way. Five rounds (PW_BENCH_ROUNDS) each pair a baseline
 * run with an ingest run next to it; the pair with the median ratio is printed.
 *
 * Both sides stay up for all the rounds, as they would in service: ingest is measured warm, not while
 * V8 is still compiling its fresh worker threads (on two cores that compiling took a third of the
 * machine for the first seconds). So that neither side gets the other's messages, the bare subscriber
 * reads a topic of the gateways' own that ingest does not subscribe to (BARE_TOPIC): the broker does
 * the same work for it — same publishers, payloads, QoS, topic depth and access checks.
 */
import { isoTime, topics } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { loadCentralConfig } from '@pledgewatch/cli/config';
import { hashPassword, IngestHandover, startEmbeddedBroker, startIngestWorker } from '@pledgewatch/ingest';
import { newWriteLock, openSqliteState } from '@pledgewatch/store';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Registry } from 'prom-client';
import { report } from './report.ts';

const GATEWAYS = 4;
/** Gateway g stands at site g mod SITES and reads only its own tags; pledge p lies at site p mod SITES. */
const SITES = Number(process.env.PW_BENCH_SITES ?? 4);
const BATCH = Number(process.env.PW_BENCH_BATCH ?? 250);
const BATCHES = Number(process.env.PW_BENCH_BATCHES ?? 2000);
const TAGS = 10_000;
const PLEDGES = 20;
const WINDOW = 64;
/**
 * Batches each side gets, untimed, before the timed rounds: enough for V8 to have compiled the hot code
 * of both (both kept getting faster up to about 3,000 batches: the broker's main thread, and ingest's
 * fresh worker threads, whose compiling competes with them for the two cores).
 */
const WARMUP = Number(process.env.PW_BENCH_WARMUP ?? 3000);
/** Quiet before each phase: longer than ingest's checkpoint interval (one second). */
const SETTLE_MS = 1500;
/** Times the bare subscriber gets each phase's payloads (see measure). */
const BASELINE_REPEAT = Number(process.env.PW_BENCH_BASELINE_REPEAT ?? 4);
/** Baseline and ingest runs side by side (see measureIngest); the median pair is reported. */
const ROUNDS = Number(process.env.PW_BENCH_ROUNDS ?? 5);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const epc = (n: number) => `3034257BF7194E40${n.toString(16).toUpperCase().padStart(8, '0')}`;

const PER_PLEDGE = TAGS / PLEDGES;
if (![1, 2, 4].includes(SITES)) throw new Error(`PW_BENCH_SITES must be 1, 2 or 4 (a divisor of ${GATEWAYS} gateways), not ${SITES}`);
const siteOf = (n: number) => `site-${n % SITES}`;
/**
 * The tags each gateway reads: those of the pledges at its site, split between the site's gateways.
 * Each gateway has TAGS / GATEWAYS of them, whatever the number of sites.
 */
const OWN_TAGS: number[][] = Array.from({ length: GATEWAYS }, (_, g) => {
  const atSite = Array.from({ length: TAGS }, (_, n) => n).filter((n) => Math.floor(n / PER_PLEDGE) % SITES === g % SITES);
  return atSite.filter((_, i) => i % (GATEWAYS / SITES) === Math.floor(g / SITES));
});

/** What the bare subscriber reads: under each gateway's own topics, not one ingest subscribes to. */
const BARE_TOPIC = (gatewayId: string) => `pw/v1/gw/${gatewayId}/bench`;
const BARE_FILTER = 'pw/v1/gw/+/bench';

function payloads(seqBase: number, batches: number, topicOf: (gatewayId: string) => string): { topic: string; body: Buffer }[] {
  const out: { topic: string; body: Buffer }[] = [];
  for (let b = 0; b < batches; b++) {
    const g = b % GATEWAYS;
    const gatewayId = `gw-${g}`;
    const k = Math.floor(b / GATEWAYS);
    const at = isoTime(Date.now() + b);
    // Every event changes a tag's state, as real traffic does: rounds of arrivals, moves, departures
    // of the gateway's own tags (those of the pledges at its site).
    const own = OWN_TAGS[g] as number[];
    const round = Math.floor((k * BATCH) / own.length) % 3;
    const events = Array.from({ length: BATCH }, (_, i) => {
      const n = own[(k * BATCH + i) % own.length] as number;
      const common = { at, epc: epc(n), readerId: 'r1' };
      if (round === 0) return { type: 'tag.arrived', ...common, zone: `Z${n % 8}`, antenna: 1 + (n % 4), rssi: -60 };
      if (round === 1) return { type: 'tag.moved', ...common, fromZone: `Z${n % 8}`, zone: `Z${(n + 1) % 8}` };
      return { type: 'tag.departed', ...common, zone: `Z${(n + 1) % 8}`, lastSeenAt: at };
    });
    const body = { v: 1, gatewayId, seq: seqBase + k, sentAt: at, events };
    out.push({ topic: topicOf(gatewayId), body: Buffer.from(JSON.stringify(body)) });
  }
  return out;
}

/** Publishes QoS 1 with a bounded window (see the mqtt.js burst trap in DEPENDENCIES.md). */
async function publishAll(client: MqttClient, messages: { topic: string; body: Buffer }[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const m = messages[next++] as { topic: string; body: Buffer };
      await client.publishAsync(m.topic, m.body, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

export async function benchIngest(): Promise<void> {
  // What `pledgewatch start` gives ingest on this machine with the embedded broker.
  const workers = loadCentralConfig({ env: { PW_INGEST_WORKERS: process.env.PW_INGEST_WORKERS } }).ingestWorkers;
  const shipped = await measureIngest(workers);
  report({ bench: 'ingest', metric: 'events_per_s', value: shipped.value, unit: '1/s', baseline: shipped.baseline });
  report({ bench: 'ingest', metric: 'workers', value: workers, unit: 'threads' });
  if (workers !== 1) {
    const one = await measureIngest(1);
    report({ bench: 'ingest', metric: 'events_per_s_1_worker', value: one.value, unit: '1/s', baseline: one.baseline });
  }
  report({ bench: 'ingest', metric: 'sites', value: SITES, unit: 'sites' });
  report({ bench: 'ingest', metric: 'batch_events', value: BATCH, unit: 'events' });
}

/** Ingest's events/s on `workers` threads and the bare subscriber's, same run (see the file comment). */
export async function measureIngest(workers: number, rounds = ROUNDS): Promise<{ value: number; baseline: number }> {
  // Everything opened is closed again in reverse order, also when a phase fails.
  const opened: (() => unknown)[] = [];
  try {
    return await measure(workers, rounds, (close) => opened.push(close));
  } finally {
    for (const close of opened.reverse()) await close();
  }
}

async function measure(workers: number, rounds: number, opened: (close: () => unknown) => void): Promise<{ value: number; baseline: number }> {
  const dir = tempDir('pw-bench-ingest-');
  opened(() => dir.remove());
  // As `pledgewatch start` opens them: the process's threads take turns writing each file.
  const state = { kind: 'sqlite', path: dir.file('state.db'), writeLock: newWriteLock() } as const;
  const seriesLock = newWriteLock();
  const store = openSqliteState(state);
  opened(() => store.close());
  const logger = pino({ level: 'warn' });
  const registry = new Registry();
  const service = { username: 'pw-ingest', password: 'bench' };
  // As `pledgewatch start` does: ingest takes the broker's messages in-process, each shard its own sites'.
  const handover = await IngestHandover.open(store, workers);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, store, logger, registry, service, handover });
  opened(() => broker.close());
  const hash = await hashPassword('gw');
  // Registered in site order, so that with two workers sites 0 and 2 are one shard's, 1 and 3 the other's.
  const t0 = Date.now();
  for (let g = 0; g < GATEWAYS; g++) {
    await store.createMqttAccount({ id: `gw-${g}`, kind: 'gateway', siteId: siteOf(g), passwordHash: hash, createdAt: isoTime(t0 + g) });
  }
  for (let p = 0; p < PLEDGES; p++) {
    await store.createPledge({
      id: `PL-${p}`, tenant: 'bench', borrower: 'b', siteId: siteOf(p), zones: ['Z0', 'Z1', 'Z2', 'Z3', 'Z4', 'Z5', 'Z6', 'Z7'],
      commodity: 'copper', unit: 't', items: Array.from({ length: PER_PLEDGE }, (_, i) => ({ epc: epc(p * PER_PLEDGE + i), quantity: 1 })),
      scales: [], loan: { outstanding: 1, currency: 'USD' }, haircut: 0.1,
      limits: { warnLtv: 0.6, marginCallLtv: 0.7, liquidationLtv: 0.8 }, quantityTolerance: 0.02, createdAt: isoTime(Date.now()),
    });
  }
  const publishers = await Promise.all(
    Array.from({ length: GATEWAYS }, (_, g) => mqtt.connectAsync(broker.url, { username: `gw-${g}`, password: 'gw', clientId: `bench-gw-${g}` })),
  );
  opened(() => Promise.all(publishers.map((c) => c.endAsync())));
  const sendAll = (messages: { topic: string; body: Buffer }[]) =>
    Promise.all(publishers.map((c, g) => publishAll(c, messages.filter((m) => m.topic.startsWith(`pw/v1/gw/gw-${g}/`)))));

  // Baseline: a bare subscriber that counts and discards.
  const bare = await mqtt.connectAsync(broker.url, { ...service, clientId: 'bench-bare', clean: true });
  opened(() => bare.endAsync());
  await bare.subscribeAsync(BARE_FILTER, { qos: 1 });
  let received = 0;
  bare.on('message', () => (received += BATCH));

  // Ingest as `pledgewatch start` runs it (worker threads with their own store connections, one shard
  // of the sites each): validation, dedup, batch log, live state and series.
  const ingest = await startIngestWorker({
    workers,
    state,
    series: { kind: 'sqlite', path: dir.file('series.db'), writeLock: seriesLock },
    handover,
    logLevel: 'warn',
    logger,
  });
  opened(() => ingest.stop());
  // Polled every 10 ms while ingest works: one counter, not every metric (that cost a few % of a core).
  const applied = () => ingest.total('pw_ingest_events_total');

  // Each side's phases: `batches` batches with fresh seqs (ingest drops replays), until all are counted.
  // The bare subscriber takes the same payloads `repeat` times over (BASELINE_REPEAT): it does not look
  // at seqs, and its phase then lasts about as long as ingest's, so that what a phase's start costs
  // (the connections' TCP windows opening again after the quiet before it) weighs alike on both.
  let seqBase = 1;
  const sides = {
    baseline: { topicOf: BARE_TOPIC, processed: () => Promise.resolve(received), expected: 0, repeat: BASELINE_REPEAT },
    ingest: { topicOf: topics.events, processed: applied, expected: 0, repeat: 1 },
  };
  const phase = async (side: (typeof sides)['baseline'], batches: number): Promise<number> => {
    const once = payloads(seqBase, batches, side.topicOf);
    const messages = Array.from({ length: side.repeat }, () => once).flat();
    seqBase += batches;
    side.expected += messages.length * BATCH;
    // What the previous phase left running settles first: ingest's last checkpoint and quantity sample
    // (on its one-second timer), collections. Otherwise it would run in this phase's time.
    await sleep(SETTLE_MS);
    const t0 = performance.now();
    await sendAll(messages);
    while ((await side.processed()) < side.expected) await sleep(10);
    return (messages.length * BATCH) / ((performance.now() - t0) / 1000);
  };
  // First each side gets WARMUP batches, untimed, so that neither is measured while its code is cold.
  await phase(sides.baseline, WARMUP);
  await phase(sides.ingest, WARMUP);

  // Rounds pair a baseline with an ingest run next to it, in alternating order, so that what else the
  // machine does meanwhile hits both sides of a pair alike; the pair with the median ratio is reported.
  const pairs: { value: number; baseline: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const baseline = await phase(sides.baseline, BATCHES);
      pairs.push({ baseline, value: await phase(sides.ingest, BATCHES) });
    } else {
      const value = await phase(sides.ingest, BATCHES);
      pairs.push({ value, baseline: await phase(sides.baseline, BATCHES) });
    }
  }
  for (const [r, p] of pairs.entries()) {
    process.stderr.write(`ingest bench, ${workers} worker(s), round ${r + 1}: ${Math.round(p.value)} events/s against ${Math.round(p.baseline)}, ratio ${(p.value / p.baseline).toFixed(3)}\n`);
  }
  pairs.sort((a, b) => a.value / a.baseline - b.value / b.baseline);
  const median = pairs[Math.floor(pairs.length / 2)] as { value: number; baseline: number };

  return median;
}
