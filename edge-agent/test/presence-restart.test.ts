/**
 * Presence across restarts: the present tags are saved to edge.db (in bulk, behind the reads) and
 * restored at start, so a restart neither re-announces every tag nor forgets one that left while
 * the agent was down. Time while the agent was down counts like time a reader is down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import { checkEdgeConfig, createEdgeAgent, PresenceTracker, SqlitePresenceStore, type EdgeAgent, type PresenceChanges } from '../src/index.ts';
import { record, seededRandom, silentLogger, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from './helpers.ts';

const T1 = '3034257BF7194E4000001A85';
const T2 = '3034257BF7194E4000001A86';
const T3 = '3034257BF7194E4000001A87';

/** A tracker over one reader (antenna 1 → A1, 2 → A2) with a 10 s absence timeout, on a fake clock. */
function tracker(clock: FakeClock) {
  const presence = new PresenceTracker({ readers: [{ id: 'r1', antennas: { '1': 'A1', '2': 'A2' } }], absenceTimeoutMs: 10_000, snapshotIntervalMs: 60_000, clock });
  const events: UplinkEvent[] = [];
  presence.on('event', (e) => events.push(e));
  /** `n` one-second rounds reading `epcs` on antenna 1 (or as given). */
  const rounds = (n: number, epcs: [string, number][]) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      for (const [epc, antenna] of epcs) presence.read('r1', { epc, antenna, at: clock.now() });
      presence.round('r1', { at: clock.now() });
    }
  };
  return { presence, events, rounds };
}

describe('presence state in edge.db', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('saves what changed once per save, not once per read, and deletes departed tags', () => {
    const clock = new FakeClock('2026-11-28T20:00:00.000Z');
    const { presence, rounds } = tracker(clock);
    presence.status('r1', { connected: true });
    rounds(50, [[T1, 1], [T2, 1], [T3, 2]]);
    const saves: PresenceChanges[] = [];
    expect(presence.saveChanges((c) => saves.push(c))).toBe(3);
    expect(saves[0]?.present.map((t) => [t.epc, t.zone, t.lastSeenAt])).toEqual([
      [T1, 'A1', Date.parse('2026-11-28T20:00:50.000Z')],
      [T2, 'A1', Date.parse('2026-11-28T20:00:50.000Z')],
      [T3, 'A2', Date.parse('2026-11-28T20:00:50.000Z')],
    ]);
    expect(presence.saveChanges(() => saves.push({ present: [], gone: [] }))).toBe(0);
    rounds(12, [[T1, 1], [T3, 2]]);
    // a failed save keeps the changes for the next one
    expect(() => presence.saveChanges(() => { throw new Error('disk full'); })).toThrow('disk full');
    presence.saveChanges((c) => saves.push(c));
    expect(saves[1]).toEqual({ present: expect.arrayContaining([expect.objectContaining({ epc: T1 }), expect.objectContaining({ epc: T3 })]) as unknown, gone: [T2] });
  });

  it('restores the present tags: no second arrival, and a tag gone while the agent was down departs after a full timeout of inventory', () => {
    const dir = tempDir();
    dirs.push(dir);
    const clock = new FakeClock('2026-11-28T20:00:00.000Z');
    const first = tracker(clock);
    const store = new SqlitePresenceStore({ dataDir: dir.path });
    expect(store.open()).toEqual([]);
    first.presence.status('r1', { connected: true });
    first.rounds(3, [[T1, 1], [T2, 1], [T3, 2]]);
    first.presence.saveChanges((c) => store.save(c));
    store.close();

    // Down for an hour, far beyond the absence timeout; T2 was carried out meanwhile.
    clock.advance(3_600_000);
    const again = new SqlitePresenceStore({ dataDir: dir.path });
    const second = tracker(clock);
    expect(second.presence.restore(again.open())).toEqual({ restored: 3, skipped: 0 });
    second.presence.status('r1', { connected: true });
    second.presence.snapshot();
    expect(second.events.filter((e) => e.type === 'inventory.snapshot').map((e) => e.type === 'inventory.snapshot' && [e.zone, e.epcs])).toEqual([
      ['A1', [T1, T2]],
      ['A2', [T3]],
    ]);
    second.rounds(9, [[T1, 1], [T3, 2]]);
    expect(second.events.filter((e) => e.type.startsWith('tag.'))).toEqual([]);
    second.rounds(1, [[T1, 1], [T3, 2]]);
    expect(second.events.filter((e) => e.type.startsWith('tag.'))).toEqual([
      { type: 'tag.departed', at: '2026-11-28T21:00:13.000Z', epc: T2, zone: 'A1', readerId: 'r1', lastSeenAt: '2026-11-28T20:00:03.000Z' },
    ]);
    second.presence.saveChanges((c) => again.save(c));
    again.close();
    const third = new SqlitePresenceStore({ dataDir: dir.path });
    expect(third.open().map((t) => t.epc).sort()).toEqual([T1, T3]);
    third.close();
  });

  it('forgets saved tags of a reader no longer in the config', () => {
    const clock = new FakeClock();
    const { presence } = tracker(clock);
    const result = presence.restore([
      { epc: T1, readerId: 'r1', zone: 'A1', lastSeenAt: 0 },
      { epc: T2, readerId: 'gone-reader', zone: 'B1', lastSeenAt: 0 },
    ]);
    expect(result).toEqual({ restored: 1, skipped: 1 });
    const saves: PresenceChanges[] = [];
    presence.saveChanges((c) => saves.push(c));
    expect(saves).toEqual([{ present: [], gone: [T2] }]);
    expect(presence.present()).toEqual([T1]);
  });
});

describe('edge agent restart with presence', () => {
  const GW = 'gw-presence-1';
  let broker: TestBroker;
  let rec: Recorder;
  let dir: { path: string; remove: () => void };
  const agents: EdgeAgent[] = [];

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    await rec.close();
    await broker.close();
    dir.remove();
  });

  const startAgent = async (tags: string[]) => {
    const config = checkEdgeConfig({
      gatewayId: GW,
      dataDir: dir.path,
      uplink: { url: broker.url, password: 'gw-secret' },
      batch: { maxEvents: 50, maxDelayMs: 20 },
      presence: { absenceTimeoutS: 0.6, snapshotIntervalS: 60 },
      readers: [{ id: 'dock', driver: 'simulated', antennas: { '1': 'A1' }, simulated: { roundMs: 40, missProbability: 0, tags: { '1': tags } } }],
    });
    const agent = createEdgeAgent({ config, logger: silentLogger(), random: seededRandom(7), presenceSaveIntervalMs: 100 });
    agents.push(agent);
    await agent.start();
    return agent;
  };
  const events = (from = 0) => rec.messages.slice(from).flatMap((m) => (m.payload as UplinkBatch).events);

  it('sends no second tag.arrived for tags still there, and tag.departed for one removed while it was down', async () => {
    broker = await startBroker({ [GW]: 'gw-secret', observer: 'obs' });
    rec = await record(broker.url, { username: 'observer', password: 'obs' }, `pw/v1/gw/${GW}/events`);
    dir = tempDir();
    const first = await startAgent([T1, T2]);
    await waitFor(() => events().filter((e) => e.type === 'tag.arrived').length === 2, 5000, 'both arrivals');
    await first.stop();
    agents.splice(0);

    const seen = rec.messages.length;
    const restartedAt = Date.now();
    await startAgent([T1]); // T2 left while the agent was down
    const departed = await waitFor(() => events(seen).find((e) => e.type === 'tag.departed'), 10_000, 'departure after restart');
    expect(departed).toMatchObject({ epc: T2, zone: 'A1', readerId: 'dock' });
    // a fresh timeout, counted from the reader inventorying again, not from the last sighting
    expect(Date.parse(departed.at) - restartedAt).toBeGreaterThanOrEqual(600);
    expect(events(seen).filter((e) => e.type === 'tag.arrived')).toEqual([]);
  });
});
