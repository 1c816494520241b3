/**
 * The central broker stops while events flow: the agent keeps accepting them into the outbox, and
 * once a broker is back on the same port every batch arrives, in seq order, none missing.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { UplinkBatch } from '@pledgewatch/common';
import { checkEdgeConfig, createEdgeAgent, type EdgeAgent } from '../src/index.ts';
import { silentLogger, tempDir, waitFor } from './helpers.ts';
import { checkDelivery, observedCentral } from './outbox-delivery.ts';

const GW = 'gw-cut-1';
const accounts = { [GW]: 'gw-secret', ingest: 'ingest-secret' };
const TAGS = ['3034257BF7194E4000001A85', '3034257BF7194E4000001A86', '3034257BF7194E4000001A87'];

describe('uplink cut', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('stores events while the broker is down and delivers every batch once it is back', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const { central, observer } = await observedCentral(accounts, GW, cleanups);

    const config = checkEdgeConfig({
      gatewayId: GW,
      dataDir: dir.path,
      uplink: { url: central.gatewayUrl, password: accounts[GW] },
      heartbeatIntervalS: 0.5,
      batch: { maxEvents: 3, maxDelayMs: 20 },
      // a snapshot of two zones every 50 ms: a steady stream of events
      presence: { absenceTimeoutS: 1, snapshotIntervalS: 0.05 },
      readers: [
        {
          id: 'dock',
          driver: 'simulated',
          antennas: { '1': 'A1', '2': 'A2' },
          simulated: { roundMs: 25, missProbability: 0, tags: { '1': TAGS.slice(0, 2), '2': TAGS.slice(2) } },
        },
      ],
    });
    // A small window, so the drain after the outage goes up in many bounded windows.
    const agent: EdgeAgent = createEdgeAgent({ config, logger: silentLogger(), maxInFlight: 4 });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : agent.stop()));
    await agent.start();

    const batches = () => observer.messages.map((m) => m.payload as UplinkBatch);
    const depth = () => agent.status().outbox?.depth ?? 0;
    const cut = async () => {
      await central.stop();
      await waitFor(() => !agent.status().online || undefined, 5000, 'agent offline');
    };
    const restore = async () => {
      await central.start();
      await observer.close();
      await observer.connect(central.observerUrl); // ingest is back first, as its session expects
      await central.openGateways();
      await waitFor(() => agent.status().online || undefined, 10_000, 'agent back online');
    };

    await waitFor(() => batches().length >= 10, 10_000, 'batches before the cut');
    await cut();
    const depthAtCut = depth();
    const receivedAtCut = batches().length;
    // The agent retries every second: this outage spans several attempts.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(depth()).toBeGreaterThan(depthAtCut + 50);
    expect(batches().length).toBe(receivedAtCut);

    // Back, and cut again while the backlog drains (acks are slow), then back for good.
    await restore();
    expect(depth()).toBeGreaterThan(0);
    await cut();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await restore();
    await waitFor(() => depth() === 0 || undefined, 10_000, 'outbox drained');

    await agent.stop();
    stopped = true;
    const db = new Database(join(dir.path, 'edge.db'), { readonly: true });
    const lastSeq = (db.prepare('SELECT value FROM batch_seq').get() as { value: number }).value;
    const left = db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
    db.close();
    expect(left.n).toBe(0);
    expect(agent.status().outbox).toEqual({ depth: 0, dropped: 0 });

    await waitFor(() => new Set(batches().map((b) => b.seq)).size >= lastSeq || undefined, 10_000, `every seq up to ${lastSeq}`);
    const delivery = checkDelivery(batches());
    expect(delivery.seqs).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(delivery.outOfOrder).toEqual([]);
    expect(delivery.inconsistent).toEqual([]);
    // the drain went up in windows: never more unacknowledged than maxInFlight
    expect(central.peakEventsInFlight).toBe(4);
    // the batches accepted during the outage are part of it
    expect(lastSeq).toBeGreaterThan(receivedAtCut + 15);
  });
});
