/**
 * Runs the demo world (simulated warehouse, price feed, scenario) against a central side, and prints
 * what a lender sees through the HTTP API. Used by `pledgewatch demo` and `pledgewatch simulate`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPwError, type Valuation } from '@pledgewatch/common';
import { createWarehouse, DEMO, DEMO_COMMODITIES, DEMO_PLEDGES, DEMO_SCENARIO, DEMO_ZONES, runScenario, startPriceFeed } from '@pledgewatch/simulators';
import type { StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { MosquittoFiles } from '@pledgewatch/ingest';
import { createApiKey, createMqttAccount } from './provision.ts';

interface DemoCredentials {
  apiKey: string;
  gatewayPassword: string;
  feedPassword: string;
}

/**
 * Credentials are shown once at creation, so the simulator keeps its own beside the data it made.
 * With `mosquitto`, the accounts go into Mosquitto's password and ACL files as well.
 */
export async function demoCredentials(store: StateStore, dataDir: string, mosquitto?: MosquittoFiles): Promise<DemoCredentials> {
  const file = join(dataDir, 'simulator.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
  try {
    const creds: DemoCredentials = {
      gatewayPassword: await createMqttAccount(store, DEMO.gatewayId, 'gateway', DEMO.siteId, { mosquitto }),
      feedPassword: await createMqttAccount(store, DEMO.feedId, 'feed', null, { mosquitto }),
      apiKey: await createApiKey(store, DEMO.tenant),
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
    return creds;
  } catch (err) {
    if (isPwError(err, 'ACCOUNT_EXISTS')) {
      throw new Error(`${DEMO.gatewayId} already exists in ${dataDir} but ${file} is missing: use a fresh data dir`, {
        cause: err,
      });
    }
    throw err;
  }
}

async function registerPledges(apiUrl: string, apiKey: string): Promise<void> {
  for (const pledge of DEMO_PLEDGES) {
    const res = await fetch(`${apiUrl}/v1/pledges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(pledge),
    });
    if (res.status !== 201 && res.status !== 409) throw new Error(`registering ${pledge.id}: ${res.status} ${await res.text()}`);
  }
}

interface AlertRow {
  id: string;
  pledgeId: string;
  type: string;
  severity: string;
  summary: string;
}

interface PledgeRow {
  id: string;
  borrower: string;
  valuation: Valuation;
}

const money = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

const COLUMNS: [string, number][] = [
  ['pledge', -16], ['present/pledged', 16], ['unknown', 8], ['price', 13], ['market', 11],
  ['eligible', 11], ['loan', 10], ['LTV', 8], ['status', -12],
];

function row(cells: string[]): string {
  return cells.map((c, i) => {
    const width = COLUMNS[i]?.[1] ?? 10;
    return width < 0 ? c.padEnd(-width) : ` ${c.padStart(width - 1)}`;
  }).join(' ');
}

export function formatTable(rows: PledgeRow[], at: Date): string {
  const lines = [`── ${at.toISOString()} ${'─'.repeat(80)}`, row(COLUMNS.map(([name]) => name))];
  for (const r of rows) {
    const v = r.valuation;
    const q = v.quantity;
    lines.push(
      row([
        r.id,
        `${q.present}/${q.pledged}`,
        String(q.unknown),
        v.price ? `${v.price.value.toFixed(2)}/${v.price.unit}` : '-',
        money(v.marketValue),
        money(v.eligibleValue),
        money(v.outstanding),
        v.ltv === null ? '∞' : `${(v.ltv * 100).toFixed(1)}%`,
        v.status,
      ]),
    );
  }
  return lines.join('\n');
}

export interface DemoRun {
  apiKey: string;
  stop(): Promise<void>;
}

export async function runDemoWorld(opts: {
  store: StateStore;
  dataDir: string;
  apiUrl: string;
  mqttUrl: string;
  logger: Logger;
  out: (text: string) => void;
  tableEveryMs?: number;
  mosquitto?: MosquittoFiles;
}): Promise<DemoRun> {
  const creds = await demoCredentials(opts.store, opts.dataDir, opts.mosquitto);
  await registerPledges(opts.apiUrl, creds.apiKey);
  const warehouse = createWarehouse({
    gatewayId: DEMO.gatewayId,
    zones: DEMO_ZONES,
    url: opts.mqttUrl,
    password: creds.gatewayPassword,
    dataDir: join(opts.dataDir, 'edge'),
    logger: opts.logger,
  });
  await warehouse.agent.start();
  const feed = await startPriceFeed({
    url: opts.mqttUrl,
    username: DEMO.feedId,
    password: creds.feedPassword,
    commodities: DEMO_COMMODITIES,
    intervalMs: 3000,
  });
  opts.out(`API key of tenant ${DEMO.tenant}: ${creds.apiKey}`);
  opts.out(`try: curl -s -H "Authorization: Bearer ${creds.apiKey}" ${opts.apiUrl}/v1/pledges/PL-DEMO-COPPER/value`);
  const cancel = runScenario(
    { warehouse, feed },
    DEMO_SCENARIO,
    (step) => opts.out(`\n▶ t+${step.atS}s: ${step.say}`),
    (step, err) => opts.logger.error({ err, step: step.say }, 'scenario step failed'),
  );
  const announced = new Set<string>();
  const show = async () => {
    const res = await fetch(`${opts.apiUrl}/v1/pledges`, { headers: { authorization: `Bearer ${creds.apiKey}` } });
    if (!res.ok) return opts.out(`(GET /v1/pledges answered ${res.status})`);
    const body = (await res.json()) as { items: PledgeRow[] };
    opts.out(formatTable(body.items, new Date()));
    const alerts = await fetch(`${opts.apiUrl}/v1/alerts?status=open`, { headers: { authorization: `Bearer ${creds.apiKey}` } });
    if (!alerts.ok) return;
    for (const a of ((await alerts.json()) as { items: AlertRow[] }).items) {
      if (announced.has(a.id)) continue;
      announced.add(a.id);
      opts.out(`⚠ ${a.severity.toUpperCase()} ${a.type} on ${a.pledgeId}: ${a.summary}`);
    }
  };
  const table = setInterval(() => void show().catch((err: unknown) => opts.logger.warn({ err }, 'table refresh failed')), opts.tableEveryMs ?? 4000);
  return {
    apiKey: creds.apiKey,
    async stop() {
      cancel();
      clearInterval(table);
      await feed.stop();
      await warehouse.agent.stop();
    },
  };
}
