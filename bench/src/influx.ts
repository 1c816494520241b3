/**
 * `npm run bench -- influx`: points per second through the InfluxDB series adapter (conversion,
 * bounded buffer, 5,000-point batches, the influx client) against POSTing the same points, already
 * serialised as line protocol in the same batches and with as many requests in flight, straight to
 * InfluxDB's /write — same server, same run. Each side writes into a fresh database. Rounds pair a
 * baseline run with an adapter run next to it (in alternating order); the figures are those of the
 * round with the median ratio, so that load from other processes on the machine hits both sides of a
 * pair alike.
 *
 * InfluxDB: PW_BENCH_INFLUX_URL (a server's base URL, e.g. http://127.0.0.1:8086), else an influxd
 * of the bench's own (PW_TEST_INFLUXD_BIN or on PATH).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { findServer, startInfluxd, type ServerProcess } from '@pledgewatch/common/testing-servers';
import { openInfluxSeries, toLineProtocol, type SeriesPoint } from '@pledgewatch/store';
import { report } from './report.ts';

const POINTS = Number(process.env.PW_BENCH_POINTS ?? 200_000);
const ROUNDS = Number(process.env.PW_BENCH_ROUNDS ?? 5);
const BATCH = 5_000;
const IN_FLIGHT = 2;
/** Ingest hands the store a batch's points at a time; a few hundred is a typical uplink batch. */
const WRITE_CHUNK = 250;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const SENSORS = 1_000;
const KINDS = ['temperature', 'humidity', 'weight', 'shock'];

function makePoints(n: number, offset: number): SeriesPoint[] {
  return Array.from({ length: n }, (_, i) => {
    const s = i % SENSORS;
    return {
      measurement: 'reading',
      tags: { gatewayId: `gw-${s % 20}`, sensorId: `sensor-${s}`, kind: KINDS[s % 4] ?? 'weight', zone: `Z${s % 16}` },
      fields: { value: Math.round(Math.sin(i) * 10_000) / 100 },
      time: T0 + offset + i,
    };
  });
}

/** The same bytes the adapter sends, in the same 5,000-point bodies: serialised before the clock starts. */
function lineProtocol(points: SeriesPoint[]): string[] {
  return toLineProtocol(points, BATCH, () => {
    throw new Error('a bench point was refused');
  }).map((chunk) => chunk.body);
}

function request(base: URL, agent: http.Agent, method: string, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function baseline(base: URL, agent: http.Agent, bodies: string[], points: number): Promise<number> {
  const db = `bench_raw_${randomUUID().slice(0, 8)}`;
  await request(base, agent, 'POST', `/query?q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}`, '');
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const status = await request(base, agent, 'POST', `/write?db=${db}&precision=ms`, body);
      if (status !== 204) throw new Error(`baseline write answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  await request(base, agent, 'POST', `/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, '');
  return points / seconds;
}

async function throughAdapter(base: URL, points: SeriesPoint[]): Promise<number> {
  const db = `bench_adapter_${randomUUID().slice(0, 8)}`;
  let written = 0;
  const store = openInfluxSeries({
    url: new URL(db, base).toString(),
    batchSize: BATCH,
    maxInFlight: IN_FLIGHT,
    metrics: { written: (n) => (written += n), dropped: () => {}, retried: () => {}, buffered: () => {} },
  });
  // The database is created on the first write; do that outside the timing, as the baseline does.
  await store.write(makePoints(1, -1));
  await store.flush();
  written = 0;
  const started = performance.now();
  for (let i = 0; i < points.length; i += WRITE_CHUNK) await store.write(points.slice(i, i + WRITE_CHUNK));
  await store.flush();
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  if (written !== points.length) throw new Error(`adapter wrote ${written} of ${points.length} points`);
  await request(base, new http.Agent(), 'POST', `/query?q=${encodeURIComponent(`DROP DATABASE "${db}"`)}`, '');
  return points.length / seconds;
}


export async function benchInflux(): Promise<void> {
  let server: ServerProcess | undefined;
  let baseUrl = process.env.PW_BENCH_INFLUX_URL;
  if (baseUrl === undefined || baseUrl === '') {
    const influxd = findServer('influxd', 'PW_TEST_INFLUXD_BIN');
    if (!influxd.ok) {
      process.stderr.write(`bench influx skipped: ${influxd.reason} (or set PW_BENCH_INFLUX_URL)\n`);
      return;
    }
    server = await startInfluxd(influxd.bin);
    baseUrl = server.url;
  }
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  try {
    const points = makePoints(POINTS, 0);
    const bodies = lineProtocol(points);
    // Warm-up: JIT, the server's first shards and caches.
    await baseline(base, agent, bodies.slice(0, 4), 4 * BATCH);
    await throughAdapter(base, points.slice(0, 4 * BATCH));
    const rounds: { adapter: number; raw: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternating which side goes first: each run leaves the server compaction work the next one pays for.
      if (r % 2 === 0) {
        const raw = await baseline(base, agent, bodies, points.length);
        rounds.push({ raw, adapter: await throughAdapter(base, points) });
      } else {
        const adapter = await throughAdapter(base, points);
        rounds.push({ adapter, raw: await baseline(base, agent, bodies, points.length) });
      }
    }
    rounds.sort((a, b) => a.adapter / a.raw - b.adapter / b.raw);
    const median = rounds[Math.floor(rounds.length / 2)] ?? { adapter: 0, raw: 1 };
    report({ bench: 'influx', metric: 'points_per_s', value: median.adapter, unit: '1/s', baseline: median.raw });
  } finally {
    agent.destroy();
    await server?.remove();
  }
}
