/** The agent with its central broker unreachable: it keeps reading, stores within its bound, and stops promptly. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEdgeConfig, createEdgeAgent } from '../src/index.ts';
import { silentLogger, tempDir, waitFor } from './helpers.ts';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('edge agent without its broker', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('queues events, drops the oldest beyond the bound, counts them, and stops without hanging', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const config = checkEdgeConfig({
      gatewayId: 'gw-offline',
      dataDir: dir.path,
      uplink: { url: `mqtt://127.0.0.1:${await closedPort()}` },
      batch: { maxEvents: 1, maxDelayMs: 0 },
      outbox: { maxBytes: 1024 },
      presence: { absenceTimeoutS: 0.2, snapshotIntervalS: 0.05 },
      readers: [
        { id: 'r1', driver: 'simulated', antennas: { '1': 'A1' }, simulated: { roundMs: 20, missProbability: 0, tags: { '1': ['3034257BF7194E4000001A85'] } } },
      ],
    });
    const agent = createEdgeAgent({ config, logger: silentLogger() });
    await agent.start();
    const status = await waitFor(() => {
      const s = agent.status();
      return (s.outbox?.dropped ?? 0) > 0 ? s : undefined;
    }, 5000, 'drops');
    expect(status).toMatchObject({ online: false, readers: [{ readerId: 'r1', connected: true }] });
    // one event per batch, each well under 1 KiB: a handful fit
    expect(status.outbox?.depth).toBeGreaterThan(1);
    expect(status.outbox?.depth).toBeLessThan(20);
    expect(status.readers?.[0]?.lastReadAt).toMatch(/Z$/);
    const dropped = await agent.registry.getSingleMetric('pw_edge_outbox_dropped_events_total')?.get();
    expect(dropped?.values[0]?.value).toBeGreaterThan(0);

    const started = Date.now();
    await agent.stop();
    expect(Date.now() - started).toBeLessThan(1000);

    // what was stored, and the count of what was dropped, wait for the next start
    const stopped = agent.status().outbox;
    const again = createEdgeAgent({ config, logger: silentLogger() });
    await again.start();
    expect(again.status().outbox?.dropped).toBeGreaterThanOrEqual(stopped?.dropped ?? Infinity);
    expect(again.status().outbox?.depth).toBeGreaterThan(0);
    await again.stop();
  });
});
