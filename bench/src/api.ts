/**
 * `npm run bench -- api`: GET /v1/pledges/{id}/value over 10,000 pledges, cycling through their ids,
 * against a Fastify hello-world in the same process, both driven by autocannon from a worker thread
 * with the same connections and duration, in alternating rounds of the same run.
 *
 * The API is the one `pledgewatch start` serves (buildApp on a SQLite state file: auth, request ids,
 * metrics, problem handlers), with its logger at `warn` as the other benches. The baseline is a bare
 * `Fastify()` with one route and no auth: the framework's floor, so the ratio says what our whole
 * request path costs on top of it. A second figure compares with the same hello-world served by the
 * API's own instance (request ids, logging, metrics; no auth): what the route itself costs. Pledges,
 * prices and FX rates go in over the API; tag and reader state as ingest writes it (checkpoints), so
 * quantities are real: most goods present, some missing, some relocated, some behind a disconnected
 * reader or an offline gateway, a third priced in EUR against USD loans (FX).
 */
import { isoTime, type ReaderHealth, type TagState } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { createApiKey, createMqttAccount } from '@pledgewatch/cli/provision';
import { buildApp, startApi } from '@pledgewatch/monitor-api';
import { openSqliteState, type StateStore } from '@pledgewatch/store';
import Fastify from 'fastify';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { runLoad, type LoadResult, type LoadSpec } from './http-load.ts';
import { report } from './report.ts';

const PLEDGES = Number(process.env.PW_BENCH_API_PLEDGES ?? 10_000);
const CONNECTIONS = Number(process.env.PW_BENCH_API_CONNECTIONS ?? 10);
/** Seconds per round and side, and rounds. */
const DURATION_S = Number(process.env.PW_BENCH_API_S ?? 5);
const ROUNDS = Number(process.env.PW_BENCH_API_ROUNDS ?? 3);
/** Untimed requests first, so that neither side is measured cold: every value path twice at least. */
const WARMUP_REQUESTS = Math.max(2 * PLEDGES, 20_000);
const SITES = 10;
const ITEMS = 4;
/** Registration requests in flight at once. */
const WINDOW = 16;

const epc = (n: number) => `3034257BF7194E40${n.toString(16).toUpperCase().padStart(8, '0')}`;
const pledgeId = (i: number) => `PL-${String(i).padStart(5, '0')}`;

export async function benchApi(): Promise<void> {
  const dir = tempDir('pw-bench-api-');
  const store = openSqliteState({ path: dir.file('state.db') });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = buildApp({ store, logger: pino({ level: 'warn' }), registry });
  // The same hello-world inside the API's own instance: request ids, logging, metrics, no auth.
  app.get('/hello', () => ({ hello: 'world' }));
  const { url } = await startApi(app, { host: '127.0.0.1', port: 0 });
  const hello = Fastify();
  hello.get('/hello', () => ({ hello: 'world' }));
  const helloUrl = await hello.listen({ host: '127.0.0.1', port: 0 });

  const key = await createApiKey(store, 'bench');
  await seed(store, url, key);

  const sides = {
    value: { url, paths: Array.from({ length: PLEDGES }, (_, i) => `/v1/pledges/${pledgeId(i)}/value`), headers: { authorization: `Bearer ${key}` } },
    hello: { url: helloUrl, paths: ['/hello'], headers: {} },
    appHello: { url, paths: ['/hello'], headers: {} },
  };
  type Measured = LoadResult & { busyUs: number };
  /** A load, with the time the servers' thread (this one) was busy per request: what the server side costs. */
  const run = async (spec: Omit<LoadSpec, 'connections' | 'durationS'>, amount?: number): Promise<Measured> => {
    const before = performance.eventLoopUtilization();
    const result = await runLoad({ ...spec, connections: CONNECTIONS, durationS: DURATION_S, ...(amount === undefined ? {} : { amount }) });
    const busy = performance.eventLoopUtilization(before);
    if (result.failures > 0) throw new Error(`${spec.url}: ${result.failures} requests failed; the figures would not mean anything`);
    return { ...result, busyUs: (busy.active * 1000) / result.requests };
  };
  for (const spec of Object.values(sides)) await run(spec, WARMUP_REQUESTS);
  // Rounds alternate the sides, and each figure is the median of its rounds: on a shared machine a
  // burst of other work then costs one round of one side, not the comparison.
  const results: Record<keyof typeof sides, Measured[]> = { value: [], hello: [], appHello: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, spec] of Object.entries(sides) as [keyof typeof sides, LoadSpec][]) results[side].push(await run(spec));
  }
  const median = (side: keyof typeof sides, figure: (r: Measured) => number) => {
    const sorted = results[side].map(figure).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const rate = (r: Measured) => r.reqPerS;

  report({ bench: 'api', metric: 'req_per_s', value: median('value', rate), unit: '1/s', baseline: median('hello', rate) });
  report({ bench: 'api', metric: 'p99_ms', value: median('value', (r) => r.p99Ms), unit: 'ms' });
  report({ bench: 'api', metric: 'hello_p99_ms', value: median('hello', (r) => r.p99Ms), unit: 'ms' });
  // /value against the hello-world served by the API's own instance: what the route itself costs (auth,
  // the cache, the valuation, a larger answer) beyond what every request of this server pays.
  report({ bench: 'api', metric: 'req_per_s_vs_app_hello', value: median('value', rate), unit: '1/s', baseline: median('appHello', rate) });
  // Busy time of the servers' event loop per request, /value against hello: less at the mercy of what
  // else the machine runs than the request rates, which also measure the load generator.
  report({ bench: 'api', metric: 'server_us_per_req', value: median('value', (r) => r.busyUs), unit: 'us', baseline: median('hello', (r) => r.busyUs) });
  report({ bench: 'api', metric: 'connections', value: CONNECTIONS, unit: 'connections' });

  await hello.close();
  await app.close();
  await store.close();
  dir.remove();
}

/** Gateways, prices, pledges over the API; then tag and reader state as ingest checkpoints it. */
async function seed(store: StateStore, url: string, key: string): Promise<void> {
  const now = isoTime(Date.now());
  for (let s = 0; s < SITES; s++) {
    await createMqttAccount(store, `gw-${s}`, 'gateway', `site-${s}`);
    // The last site's gateway is offline: its goods are unknown (a blind spot), as after a last will.
    const online = s !== SITES - 1;
    await store.recordGatewayStatus(
      `gw-${s}`,
      { v: 1, gatewayId: `gw-${s}`, online, at: now, agentVersion: 'bench', readers: [], outbox: { depth: 0, dropped: 0 } },
      now,
    );
  }
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  };
  await post('/v1/prices', { commodity: 'copper-cathode', price: 9150, currency: 'USD', unit: 't', at: now, source: 'bench' });
  await post('/v1/prices', { commodity: 'steel-coil', price: 610, currency: 'EUR', unit: 't', at: now, source: 'bench' });
  await post('/v1/fx', { base: 'EUR', quote: 'USD', rate: 1.08, at: now, source: 'bench' });

  let next = 0;
  const register = async () => {
    while (next < PLEDGES) {
      const i = next++;
      const steel = i % 3 === 0;
      await post('/v1/pledges', {
        id: pledgeId(i), borrower: `borrower-${i % 97}`, siteId: `site-${i % SITES}`, zones: ['A1', 'A2'],
        commodity: steel ? 'steel-coil' : 'copper-cathode', unit: steel ? 'kg' : 't',
        items: Array.from({ length: ITEMS }, (_, j) => ({ epc: epc(i * ITEMS + j), quantity: steel ? 2500 : 2.5 })),
        loan: { outstanding: 20_000 + (i % 50) * 500, currency: 'USD' }, haircut: 0.15,
        limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
      });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, register));

  const tags: TagState[] = [];
  for (let i = 0; i < PLEDGES; i++) {
    const site = i % SITES;
    for (let j = 0; j < ITEMS; j++) {
      // Item 3 of every 7th pledge departed; item 2 of every 11th sits outside the pledged zones;
      // item 1 of every 5th was last seen by a reader that is now disconnected.
      const readerId = j === 1 && i % 5 === 0 ? 'r2' : 'r1';
      const zone = j === 2 && i % 11 === 0 ? 'B9' : j % 2 === 0 ? 'A1' : 'A2';
      tags.push({
        epc: epc(i * ITEMS + j), gatewayId: `gw-${site}`, siteId: `site-${site}`, zone, readerId,
        present: !(j === 3 && i % 7 === 0), lastSeenAt: now, updatedAt: now,
      });
    }
  }
  const readers: ReaderHealth[] = Array.from({ length: SITES }, (_, s) => [
    { gatewayId: `gw-${s}`, readerId: 'r1', connected: true, at: now },
    { gatewayId: `gw-${s}`, readerId: 'r2', connected: false, at: now },
  ]).flat();
  await store.checkpoint({ tags, readers, batches: [] });
}
