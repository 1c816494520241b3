/**
 * `npm run bench -- detection`: detection quality of the real presence tracker (edge-agent) and the
 * real ingest with its rules, over 24 simulated hours on a fake clock. One site, 5,000 tags in 20
 * pledges (a zone each, four readers of five antennas), every tag missed in 10 % of inventory rounds
 * at random, one reader restart per hour, and 20 removals of 2–5 % of a pledge (one per pledge) at
 * random times. Prints false_alerts (QUANTITY_LOSS or RELOCATION not explained by a removal; target 0),
 * detected_ratio (target 1), detection_delay_p50_s and detection_delay_max_s (target ≤ absence timeout
 * + confirmation delay). Seeded (PW_BENCH_SEED), so a run can be repeated exactly.
 */
import { FakeClock, isoTime, topics, type AlertRecord, type Pledge, type UplinkEvent } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { PresenceTracker } from '@pledgewatch/edge-agent';
import { createIngest, type BrokerConnection, type MessageHandler } from '@pledgewatch/ingest';
import { openSqliteSeries, openSqliteState } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { report } from './report.ts';

const HOURS = Number(process.env.PW_BENCH_DETECTION_HOURS ?? 24);
const PLEDGES = 20;
const TAGS_PER_PLEDGE = 250;
const READERS = 4;
const MISS = 0.1;
const ROUND_MS = 20_000;
const ABSENCE_MS = 120_000;
const CONFIRM_MS = 120_000;
const HEARTBEAT_MS = 30_000;
const RESTART_DOWN_MS = 30_000;
/** Above 2 % of a pledge by a margin: a removal of 2 % must be more than the tolerance to be a loss. */
const TOLERANCE = 0.015;
const T0 = Date.parse('2026-06-01T00:00:00.000Z');

const epc = (p: number, i: number) => `3034257BF7194E40${(p * TAGS_PER_PLEDGE + i).toString(16).toUpperCase().padStart(8, '0')}`;
const zoneOf = (p: number) => `Z${p}`;
const readerOf = (p: number) => `r${Math.floor(p / (PLEDGES / READERS))}`;
const antennaOf = (p: number) => (p % (PLEDGES / READERS)) + 1;

/** mulberry32: small, fast and good enough to pick misses and times reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Direct implements BrokerConnection {
  handler: MessageHandler | null = null;
  start(handler: MessageHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }
  isConnected = () => true;
  close = () => Promise.resolve();
}

interface Removal {
  pledge: number;
  at: number;
  epcs: string[];
}

export async function benchDetection(): Promise<void> {
  const random = prng(Number(process.env.PW_BENCH_SEED ?? 42));
  const dir = tempDir('pw-bench-detection-');
  const clock = new FakeClock(T0);
  const store = openSqliteState({ path: dir.file('state.db') });
  const series = openSqliteSeries({ path: dir.file('series.db') });
  await store.createMqttAccount({ id: 'gw-1', kind: 'gateway', siteId: 'site-1', passwordHash: 'unused', createdAt: isoTime(T0) });
  for (let p = 0; p < PLEDGES; p++) await store.createPledge(pledge(p));

  const connection = new Direct();
  const ingest = createIngest({
    store, series, clock, connection, registry: new Registry(), logger: pino({ level: 'error' }), // alert logs would mix with the figures on stdout
    // The bench runs the rules after every round itself; the ingest's own timers would only repeat it.
    rules: { confirmationDelayS: CONFIRM_MS / 1000, tickS: 3600 },
    pledgeRefreshMs: 3_600_000,
    checkpointMs: 60_000,
  });
  await ingest.start();
  const deliver = (topic: string, body: unknown) => (connection.handler as MessageHandler)({ topic, payload: Buffer.from(JSON.stringify(body)) });

  const tracker = new PresenceTracker({
    readers: Array.from({ length: READERS }, (_, r) => ({
      id: `r${r}`,
      antennas: Object.fromEntries(Array.from({ length: PLEDGES / READERS }, (_, a) => [String(a + 1), zoneOf(r * (PLEDGES / READERS) + a)])),
    })),
    absenceTimeoutMs: ABSENCE_MS,
    snapshotIntervalMs: 300_000,
    clock,
    epcUris: { uri: () => undefined },
  });
  const outgoing: UplinkEvent[] = [];
  tracker.on('event', (e) => outgoing.push(e));
  const connected = new Set<string>();
  for (let r = 0; r < READERS; r++) {
    tracker.status(`r${r}`, { connected: true });
    connected.add(`r${r}`);
  }
  tracker.start();

  // What is physically on the shelves, per pledge; removals take tags away for good.
  const shelf = Array.from({ length: PLEDGES }, (_, p) => Array.from({ length: TAGS_PER_PLEDGE }, (_, i) => epc(p, i)));
  const end = T0 + HOURS * 3_600_000;
  const removals: Removal[] = shuffle(range(PLEDGES), random).slice(0, Math.min(20, PLEDGES)).map((p) => {
    const share = 0.02 + random() * 0.03;
    const count = Math.min(Math.floor(0.05 * TAGS_PER_PLEDGE), Math.max(Math.ceil(0.02 * TAGS_PER_PLEDGE), Math.round(share * TAGS_PER_PLEDGE)));
    const at = T0 + 3_600_000 + Math.floor(random() * (end - T0 - 2 * 3_600_000));
    return { pledge: p, at, epcs: shuffle(shelf[p] as string[], random).slice(0, count) };
  });
  const restarts = range(HOURS).map((h) => ({ reader: `r${Math.floor(random() * READERS)}`, at: T0 + h * 3_600_000 + Math.floor(random() * 3_600_000) }));
  const pendingRemovals = [...removals].sort((a, b) => a.at - b.at);
  const pendingRestarts = [...restarts].sort((a, b) => a.at - b.at);
  const backUp: { reader: string; at: number }[] = [];

  let seq = 0;
  let reads = 0;
  let nextHeartbeat = T0;
  const started = performance.now();
  while (clock.now() < end) {
    clock.advance(ROUND_MS);
    const now = clock.now();
    while (pendingRemovals[0] !== undefined && pendingRemovals[0].at <= now) {
      const r = pendingRemovals.shift() as Removal;
      const gone = new Set(r.epcs);
      shelf[r.pledge] = (shelf[r.pledge] as string[]).filter((e) => !gone.has(e));
    }
    while (pendingRestarts[0] !== undefined && pendingRestarts[0].at <= now) {
      const r = pendingRestarts.shift() as { reader: string; at: number };
      if (!connected.delete(r.reader)) continue;
      tracker.status(r.reader, { connected: false, error: 'bench: reader restart' });
      backUp.push({ reader: r.reader, at: now + RESTART_DOWN_MS });
    }
    for (const b of backUp.filter((x) => x.at <= now)) {
      tracker.status(b.reader, { connected: true });
      connected.add(b.reader);
    }
    backUp.splice(0, backUp.length, ...backUp.filter((x) => x.at > now));
    for (let p = 0; p < PLEDGES; p++) {
      const reader = readerOf(p);
      if (!connected.has(reader)) continue;
      for (const e of shelf[p] as string[]) {
        if (random() < MISS) continue;
        tracker.read(reader, { epc: e, antenna: antennaOf(p), at: now });
        reads++;
      }
    }
    for (const r of connected) tracker.round(r, { at: now });
    if (outgoing.length > 0) {
      await deliver(topics.events('gw-1'), { v: 1, gatewayId: 'gw-1', seq: ++seq, sentAt: isoTime(now), events: outgoing.splice(0) });
    }
    if (now >= nextHeartbeat) {
      const readers = tracker.health().map((h) => ({ readerId: h.readerId, connected: h.connected, lastReadAt: h.lastReadAt === null ? null : isoTime(h.lastReadAt) }));
      await deliver(topics.status('gw-1'), { v: 1, gatewayId: 'gw-1', online: true, at: isoTime(now), agentVersion: 'bench', readers });
      nextHeartbeat = now + HEARTBEAT_MS;
    }
    await ingest.runRules();
  }
  const seconds = (performance.now() - started) / 1000;
  tracker.stop();

  const alerts = await store.listAlerts('bench', { limit: 100_000 });
  const { falseAlerts, delays } = score(alerts, removals);
  const sorted = [...delays].sort((a, b) => a - b);
  report({ bench: 'detection', metric: 'false_alerts', value: falseAlerts, unit: 'alerts' });
  report({ bench: 'detection', metric: 'detected_ratio', value: delays.length / removals.length, unit: 'ratio' });
  report({ bench: 'detection', metric: 'detection_delay_p50_s', value: percentile(sorted, 0.5), unit: 's' });
  report({ bench: 'detection', metric: 'detection_delay_max_s', value: sorted.at(-1) ?? Number.NaN, unit: 's' });
  report({ bench: 'detection', metric: 'delay_target_s', value: (ABSENCE_MS + CONFIRM_MS) / 1000, unit: 's' });
  report({ bench: 'detection', metric: 'monitoring_gap_alerts', value: alerts.filter((a) => a.type === 'MONITORING_GAP').length, unit: 'alerts' });
  report({ bench: 'detection', metric: 'simulated_hours_per_s', value: HOURS / seconds, unit: 'h/s' });
  report({ bench: 'detection', metric: 'tag_reads', value: reads, unit: 'reads' });

  await ingest.stop();
  await series.close();
  await store.close();
  dir.remove();
}

/**
 * A removal is detected by the first QUANTITY_LOSS of its pledge opened at or after it. Every other
 * QUANTITY_LOSS or RELOCATION is a false alert (one before the removal, or a second for the same loss).
 */
function score(alerts: AlertRecord[], removals: Removal[]): { falseAlerts: number; delays: number[] } {
  const byPledge = new Map(removals.map((r) => [`PL-${r.pledge}`, r]));
  const relevant = alerts.filter((a) => a.type === 'QUANTITY_LOSS' || a.type === 'RELOCATION').sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt));
  const detected = new Set<string>();
  const delays: number[] = [];
  let falseAlerts = 0;
  for (const a of relevant) {
    const r = byPledge.get(a.pledgeId);
    const opened = Date.parse(a.openedAt);
    if (a.type === 'QUANTITY_LOSS' && r !== undefined && opened >= r.at && !detected.has(a.pledgeId)) {
      detected.add(a.pledgeId);
      delays.push((opened - r.at) / 1000);
    } else {
      falseAlerts++;
    }
  }
  return { falseAlerts, delays };
}

function pledge(p: number): Pledge {
  return {
    id: `PL-${p}`, tenant: 'bench', borrower: `Borrower ${p}`, siteId: 'site-1', zones: [zoneOf(p)], commodity: 'copper-cathode', unit: 't',
    items: Array.from({ length: TAGS_PER_PLEDGE }, (_, i) => ({ epc: epc(p, i), quantity: 1 })),
    scales: [], loan: { outstanding: 1_000_000, currency: 'USD' }, haircut: 0.15,
    limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 }, quantityTolerance: TOLERANCE, createdAt: isoTime(T0),
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function shuffle<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
