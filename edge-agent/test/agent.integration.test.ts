/**
 * The agent end to end against a real aedes broker and a real mqtt.js subscriber: simulated reader
 * → presence → batches on pw/v1/gw/{id}/events, retained status, last will, restart on the same dataDir.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCheck, GatewayStatus, validateBatch, type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import { checkEdgeConfig, createEdgeAgent, type EdgeAgent, type EdgeConfig } from '../src/index.ts';
import { record, seededRandom, silentLogger, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from './helpers.ts';

const GW = 'gw-it-1';
const T1 = '3034257BF7194E4000001A85';
const T2 = '3034257BF7194E4000001A86';
const T3 = '3034257BF7194E4000001A87';
const gatewayAccount = { username: GW, password: 'gw-secret' };
const observer = { username: 'observer', password: 'obs-secret' };
const checkStatus = compileCheck(GatewayStatus);

describe('edge agent over a real broker', () => {
  let broker: TestBroker;
  let dir: { path: string; remove: () => void };
  let rec: Recorder;
  const agents: EdgeAgent[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    broker = await startBroker({ [GW]: gatewayAccount.password, [observer.username]: observer.password });
    dir = tempDir();
    rec = await record(broker.url, observer, `pw/v1/gw/${GW}/#`);
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await Promise.all(closers.splice(0).map((close) => close()));
    await rec.close();
    await broker.close();
    dir.remove();
  });

  const config = (): EdgeConfig =>
    checkEdgeConfig({
      gatewayId: GW,
      dataDir: dir.path,
      uplink: { url: broker.url, password: gatewayAccount.password }, // username defaults to the gateway id
      heartbeatIntervalS: 0.3,
      batch: { maxEvents: 50, maxDelayMs: 20 },
      presence: { absenceTimeoutS: 0.5, snapshotIntervalS: 0.4 },
      readers: [
        {
          id: 'dock',
          driver: 'simulated',
          antennas: { '1': 'A1', '2': 'A2' },
          simulated: { roundMs: 40, missProbability: 0.2, rssi: -55, tags: { '1': [T1, T2], '2': [T3] } },
        },
      ],
    });

  const startAgent = async () => {
    const agent = createEdgeAgent({ config: config(), logger: silentLogger(), random: seededRandom(42) });
    agents.push(agent);
    await agent.start();
    return agent;
  };

  const batches = () => rec.messages.filter((m) => m.topic.endsWith('/events')).map((m) => m.payload as UplinkBatch);
  const statuses = () => rec.messages.filter((m) => m.topic.endsWith('/status'));
  const events = (): UplinkEvent[] => batches().flatMap((b) => b.events);
  const find = <T extends UplinkEvent['type']>(type: T, match: (e: Extract<UplinkEvent, { type: T }>) => boolean) =>
    events().find((e): e is Extract<UplinkEvent, { type: T }> => e.type === type && match(e as Extract<UplinkEvent, { type: T }>));

  it('streams presence events in rising batches, keeps a retained status, and survives a cut link', async () => {
    const agent = await startAgent();
    await waitFor(() => [T1, T2, T3].every((epc) => find('tag.arrived', (e) => e.epc === epc)), 10_000, 'arrivals');
    expect(find('tag.arrived', (e) => e.epc === T3)).toMatchObject({ zone: 'A2', readerId: 'dock', antenna: 2, rssi: -55 });
    expect(find('reader.status', (e) => e.readerId === 'dock')).toMatchObject({ connected: true });
    // repeated reads of present tags are silent: one arrival per tag
    expect(events().filter((e) => e.type === 'tag.arrived')).toHaveLength(3);

    const online = await waitFor(() => statuses().find((s) => (s.payload as { online: boolean }).online), 5000, 'online status');
    expect(online.payload).toMatchObject({ v: 1, gatewayId: GW, online: true, readers: [{ readerId: 'dock', connected: true }] });
    const late = await record(broker.url, observer, `pw/v1/gw/${GW}/status`);
    closers.push(late.close);
    const retained = await waitFor(() => late.messages[0], 5000, 'retained status');
    expect(retained).toMatchObject({ retain: true, payload: { online: true } });
    await waitFor(() => statuses().length >= 3, 5000, 'heartbeats');

    const dock = agent.simulatedReader('dock');
    dock.moveTags([T3], 1);
    await waitFor(() => find('tag.moved', (e) => e.epc === T3), 5000, 'move');
    expect(find('tag.moved', (e) => e.epc === T3)).toMatchObject({ fromZone: 'A2', zone: 'A1', readerId: 'dock' });
    dock.removeTags([T1]);
    const departed = await waitFor(() => find('tag.departed', (e) => e.epc === T1), 5000, 'departure');
    expect(Date.parse(departed.at) - Date.parse(departed.lastSeenAt)).toBeGreaterThanOrEqual(500);
    await waitFor(
      () => find('inventory.snapshot', (e) => e.zone === 'A1' && e.epcs.join() === [T2, T3].join()),
      5000,
      'snapshot of A1 without T1',
    );

    // Cut the gateway's connection like a network failure: the last will says offline, the agent
    // reconnects by itself, and what happened meanwhile arrives afterwards.
    const before = statuses().length;
    broker.clients.get(`pw-edge-${GW}`)?.conn.destroy();
    await waitFor(() => statuses().slice(before).some((s) => (s.payload as { online: boolean }).online === false), 5000, 'last will');
    dock.removeTags([T2]);
    await waitFor(() => find('tag.departed', (e) => e.epc === T2), 10_000, 'departure sent after reconnect');
    expect(statuses().slice(before).some((s) => (s.payload as { online: boolean }).online)).toBe(true);

    const seqs = batches().map((b) => b.seq);
    // QoS 1 may redeliver a batch whose ack was lost in the cut; apart from that, strictly rising
    const distinct = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
    expect(distinct).toEqual([...new Set(distinct)].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(distinct.length);
    for (const b of rec.messages.filter((m) => m.topic.endsWith('/events'))) {
      const parsed = validateBatch(b.payload);
      expect(parsed.ok && parsed.value.rejected).toEqual([]);
      expect(b.payload).toMatchObject({ v: 1, gatewayId: GW });
    }
    for (const s of statuses()) expect(checkStatus(s.payload).ok).toBe(true);

    const metrics = await agent.registry.getSingleMetricAsString('pw_edge_reads_total');
    expect(metrics).toMatch(/pw_edge_reads_total\{reader="dock"\} [1-9]/);
    expect((await agent.registry.getSingleMetric('pw_edge_uplink_connected')?.get())?.values[0]?.value).toBe(1);
  });

  it('stops cleanly with an explicit offline status (no last will), and continues the seq after a restart', async () => {
    const first = await startAgent();
    await waitFor(() => batches().length >= 2, 5000, 'batches');
    await first.stop();
    agents.splice(agents.indexOf(first), 1);
    const lastSeq = Math.max(...batches().map((b) => b.seq));
    await waitFor(() => statuses().some((s) => (s.payload as { online: boolean }).online === false), 5000, 'offline status');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a fired will would arrive in this window
    const offline = statuses().filter((s) => (s.payload as { online: boolean }).online === false);
    expect(offline).toHaveLength(1);
    expect(offline[0]?.payload).toMatchObject({ gatewayId: GW, outbox: { depth: 0, dropped: 0 } });
    expect(batches().at(-1)?.events.length).toBeGreaterThan(0);

    const late = await record(broker.url, observer, `pw/v1/gw/${GW}/status`);
    closers.push(late.close);
    expect(await waitFor(() => late.messages[0], 5000, 'retained status')).toMatchObject({ retain: true, payload: { online: false } });

    const seen = batches().length;
    await startAgent();
    await waitFor(() => batches().length > seen, 5000, 'batches after restart');
    const after = batches().slice(seen).map((b) => b.seq);
    expect(after[0]).toBeGreaterThan(lastSeq);
    // the restarted agent remembers the tags present at its stop: they do not arrive again
    const arrivedBefore = new Set(batches().slice(0, seen).flatMap((b) => b.events.flatMap((e) => (e.type === 'tag.arrived' ? [e.epc] : []))));
    expect(arrivedBefore.size).toBeGreaterThan(0);
    const snapshotAfter = (zone: string) =>
      batches()
        .slice(seen)
        .some((b) => b.events.some((e) => e.type === 'inventory.snapshot' && e.zone === zone));
    await waitFor(() => snapshotAfter('A1') && snapshotAfter('A2'), 5000, 'snapshots after restart');
    const arrivedAgain = batches()
      .slice(seen)
      .flatMap((b) => b.events.flatMap((e) => (e.type === 'tag.arrived' && arrivedBefore.has(e.epc) ? [e.epc] : [])));
    expect(arrivedAgain).toEqual([]);
  });
});
