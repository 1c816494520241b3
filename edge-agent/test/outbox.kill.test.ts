/**
 * kill -9 of the edge agent mid-stream, in a child process, then a restart on the same dataDir:
 * every batch the killed process had accepted (its seq committed in edge.db) reaches the broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { UplinkBatch, UplinkEvent } from '@pledgewatch/common';
import { tempDir, waitFor } from './helpers.ts';
import { checkDelivery, observedCentral } from './outbox-delivery.ts';

const GW = 'gw-kill-1';
const GW_PASSWORD = 'gw-secret';
const accounts = { [GW]: GW_PASSWORD, ingest: 'ingest-secret' };
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'run-agent.ts');

interface AgentProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

async function spawnAgent(configPath: string): Promise<AgentProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, configPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(() => output.includes('started\n') || (gone && `exited early: ${output}`), 20_000, 'agent process start').then((r) => {
    if (typeof r === 'string') throw new Error(r);
  });
  return { child, exited, output: () => output };
}

function readEdgeDb(dataDir: string): { lastSeq: number; waiting: { seq: number; events: string }[] } {
  const db = new Database(join(dataDir, 'edge.db'));
  try {
    const lastSeq = (db.prepare('SELECT value FROM batch_seq').get() as { value: number } | undefined)?.value ?? 0;
    const waiting = db.prepare('SELECT seq, events FROM outbox ORDER BY seq').all() as { seq: number; events: string }[];
    return { lastSeq, waiting };
  } finally {
    db.close();
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('kill -9', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('loses no accepted batch when the agent is killed mid-stream and restarted', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    // Slow acks: a kill finds batches in flight, beyond those the agent had no window for yet.
    const { central, observer } = await observedCentral(accounts, GW, cleanups);
    const batches = () => observer.messages.map((m) => m.payload as UplinkBatch);
    const received = () => new Set(batches().map((b) => b.seq));

    const config = {
      gatewayId: GW,
      dataDir: join(dir.path, 'data'),
      uplink: { url: central.gatewayUrl, password: GW_PASSWORD },
      batch: { maxEvents: 2, maxDelayMs: 5 },
      // two zones snapshotted every 20 ms: about 50 batches a second
      presence: { absenceTimeoutS: 1, snapshotIntervalS: 0.02 },
      readers: [
        {
          id: 'dock',
          driver: 'simulated',
          antennas: { '1': 'A1', '2': 'A2' },
          simulated: { roundMs: 10, missProbability: 0, tags: { '1': ['3034257BF7194E4000001A85'], '2': ['3034257BF7194E4000001A86'] } },
        },
      ],
    };
    const configPath = join(dir.path, 'edge.json');
    writeFileSync(configPath, JSON.stringify(config));

    const first = await spawnAgent(configPath);
    cleanups.push(() => void first.child.kill('SIGKILL'));
    await waitFor(() => batches().length >= 40, 20_000, 'batches from the first process');
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const killed = readEdgeDb(config.dataDir);
    expect(killed.lastSeq).toBeGreaterThanOrEqual(40);
    expect(killed.waiting.length).toBeGreaterThan(0);

    const second = await spawnAgent(configPath);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    await waitFor(() => range(1, killed.lastSeq + 20).every((s) => received().has(s)) || undefined, 20_000, 'accepted batches and new ones');
    second.child.kill('SIGTERM');
    const exit = await second.exited;
    expect(exit, second.output()).toEqual({ code: 0, signal: null });

    const final = readEdgeDb(config.dataDir);
    expect(final.waiting).toEqual([]);
    const delivery = checkDelivery(batches());
    expect(delivery.seqs).toEqual(range(1, final.lastSeq));
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.inconsistent).toEqual([]);
    // what was waiting in edge.db after the kill is exactly what went up under those seqs
    const bySeq = new Map(batches().map((b) => [b.seq, b.events]));
    for (const row of killed.waiting) expect(bySeq.get(row.seq)).toEqual(JSON.parse(row.events) as UplinkEvent[]);
  });
});
