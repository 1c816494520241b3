import { describe, expect, it } from 'vitest';
import { FakeClock, type UplinkEvent } from '@pledgewatch/common';
import { PresenceTracker, type IgnoredRead } from '../src/index.ts';

const EPC1 = '3034257bf7194e4000001a85';
const EPC1_UP = EPC1.toUpperCase();
const EPC2 = '3034257BF7194E4000001A86';

/** A tracker with one reader (antennas 1, 2 → A1; 3 → A2), 10 s absence timeout, 60 s snapshots. */
function setup() {
  const clock = new FakeClock('2026-11-28T20:00:00.000Z');
  const presence = new PresenceTracker({
    readers: [
      { id: 'r1', antennas: { '1': 'A1', '2': 'A1', '3': 'A2' } },
      { id: 'r2', antennas: { '1': 'B1' } },
    ],
    absenceTimeoutMs: 10_000,
    snapshotIntervalMs: 60_000,
    clock,
  });
  const events: UplinkEvent[] = [];
  const ignored: IgnoredRead[] = [];
  presence.on('event', (e) => events.push(e));
  presence.on('ignored', (i) => ignored.push(i));
  const read = (epc: string, antenna = 1, readerId = 'r1', rssi?: number) =>
    presence.read(readerId, { epc, antenna, at: clock.now(), ...(rssi === undefined ? {} : { rssi }) });
  /** `n` inventory rounds one second apart, reading `epcs` on antenna 1 in each. */
  const rounds = (n: number, epcs: string[] = [], readerId = 'r1') => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      for (const epc of epcs) read(epc, 1, readerId);
      presence.round(readerId, { at: clock.now() });
    }
  };
  const take = () => events.splice(0);
  presence.status('r1', { connected: true });
  presence.status('r2', { connected: true });
  take();
  return { clock, presence, events, ignored, read, rounds, take };
}

describe('presence', () => {
  it('reports a first read as tag.arrived with antenna, rssi, upper-case EPC and its tag URI', () => {
    const { read, take } = setup();
    read(EPC1, 2, 'r1', -61.5);
    const epcUri = 'urn:epc:tag:sgtin-96:1.0614141.812345.6789';
    expect(take()).toEqual([
      { type: 'tag.arrived', at: '2026-11-28T20:00:00.000Z', epc: EPC1_UP, zone: 'A1', readerId: 'r1', antenna: 2, rssi: -61.5, epcUri },
    ]);
  });

  it('leaves epcUri out for an EPC of no decoded scheme', () => {
    const { read, take } = setup();
    read('E2801160600002054CC2096F');
    expect(take()).toEqual([
      { type: 'tag.arrived', at: '2026-11-28T20:00:00.000Z', epc: 'E2801160600002054CC2096F', zone: 'A1', readerId: 'r1', antenna: 1 },
    ]);
  });

  it('stays silent on repeated reads of a present tag, in any case and on any antenna of its zone', () => {
    const { read, rounds, take } = setup();
    read(EPC1);
    take();
    rounds(30, [EPC1, EPC1_UP]);
    read(EPC1_UP, 2);
    expect(take()).toEqual([]);
  });

  it('departs a tag unseen for the absence timeout by a healthy reader, not before', () => {
    const { read, rounds, take } = setup();
    read(EPC1);
    read(EPC2);
    take();
    rounds(9, [EPC2]);
    expect(take()).toEqual([]);
    rounds(1, [EPC2]);
    expect(take()).toEqual([
      { type: 'tag.departed', at: '2026-11-28T20:00:10.000Z', epc: EPC1_UP, zone: 'A1', readerId: 'r1', lastSeenAt: '2026-11-28T20:00:00.000Z' },
    ]);
    rounds(20, [EPC2]);
    expect(take()).toEqual([]);
  });

  it('does not count time while the reader is down, and gives a fresh full timeout after reconnect', () => {
    const { clock, presence, read, rounds, take } = setup();
    read(EPC1);
    rounds(5);
    take();
    presence.status('r1', { connected: false, error: 'socket closed' });
    clock.advance(3_600_000);
    presence.round('r1', { at: clock.now() }); // a stray round while down must not count either
    expect(take()).toEqual([{ type: 'reader.status', at: '2026-11-28T20:00:05.000Z', readerId: 'r1', connected: false, error: 'socket closed' }]);
    presence.status('r1', { connected: true });
    expect(take()).toEqual([{ type: 'reader.status', at: '2026-11-28T21:00:05.000Z', readerId: 'r1', connected: true }]);
    // 5 s of absence before the outage are forgotten: a full 10 s again
    rounds(9);
    expect(take()).toEqual([]);
    rounds(1);
    expect(take()).toMatchObject([{ type: 'tag.departed', epc: EPC1_UP, at: '2026-11-28T21:00:15.000Z', lastSeenAt: '2026-11-28T20:00:00.000Z' }]);
  });

  it('treats a connected reader that completes no rounds as blind', () => {
    const { clock, presence, read, rounds, take } = setup();
    read(EPC1);
    rounds(5);
    take();
    clock.advance(600_000); // stuck: connected, but no round for 10 minutes
    presence.round('r1', { at: clock.now() });
    rounds(8);
    expect(take()).toEqual([]);
    rounds(2);
    expect(take()).toMatchObject([{ type: 'tag.departed', epc: EPC1_UP }]);
  });

  it('reports a read in another zone as tag.moved, and a return after departure as a new arrival', () => {
    const { clock, presence, read, take } = setup();
    read(EPC1, 1);
    take();
    read(EPC1, 3);
    expect(take()).toEqual([{ type: 'tag.moved', at: '2026-11-28T20:00:00.000Z', epc: EPC1_UP, fromZone: 'A1', zone: 'A2', readerId: 'r1' }]);
    read(EPC1, 1, 'r2');
    expect(take()).toEqual([{ type: 'tag.moved', at: '2026-11-28T20:00:00.000Z', epc: EPC1_UP, fromZone: 'A2', zone: 'B1', readerId: 'r2' }]);
    // now r2's: r1 no longer seeing it does not matter, r2 no longer seeing it does
    const bothReaders = (n: number, seenByR2: string[]) => {
      for (let i = 0; i < n; i++) {
        clock.advance(1000);
        for (const epc of seenByR2) read(epc, 1, 'r2');
        presence.round('r1', { at: clock.now() });
        presence.round('r2', { at: clock.now() });
      }
    };
    bothReaders(20, [EPC1]);
    bothReaders(9, []);
    expect(take()).toEqual([]);
    bothReaders(1, []);
    expect(take()).toMatchObject([{ type: 'tag.departed', epc: EPC1_UP, zone: 'B1', readerId: 'r2' }]);
    read(EPC1, 1);
    expect(take()).toMatchObject([{ type: 'tag.arrived', epc: EPC1_UP, zone: 'A1', readerId: 'r1' }]);
  });

  it('snapshots every zone of every connected reader periodically, with every present EPC', () => {
    const { clock, presence, read, take } = setup();
    presence.start();
    read(EPC2, 1);
    read(EPC1, 2);
    read('3034257BF7194E4000001A87', 3);
    presence.status('r2', { connected: false });
    take();
    clock.advance(59_999);
    expect(take()).toEqual([]);
    clock.advance(1);
    expect(take()).toEqual([
      { type: 'inventory.snapshot', at: '2026-11-28T20:01:00.000Z', zone: 'A1', readerId: 'r1', epcs: [EPC1_UP, EPC2] },
      { type: 'inventory.snapshot', at: '2026-11-28T20:01:00.000Z', zone: 'A2', readerId: 'r1', epcs: ['3034257BF7194E4000001A87'] },
    ]);
    presence.status('r2', { connected: true });
    take();
    clock.advance(60_000);
    expect(take().filter((e) => e.type === 'inventory.snapshot')).toHaveLength(3);
    expect(presence.present('r2', 'B1')).toEqual([]);
    presence.stop();
    clock.advance(600_000);
    expect(take()).toEqual([]);
  });

  it('reports each reader status change once', () => {
    const { presence, take } = setup();
    presence.status('r1', { connected: true });
    presence.status('r1', { connected: false });
    presence.status('r1', { connected: false, error: 'again' });
    expect(take()).toMatchObject([{ type: 'reader.status', readerId: 'r1', connected: false }]);
  });

  it('ignores reads it cannot place, and says why', () => {
    const { read, take, ignored, presence } = setup();
    read(EPC1, 9);
    read('not-hex', 1);
    read(EPC1, 1, 'r9');
    expect(take()).toEqual([]);
    expect(ignored.map((i) => i.reason)).toEqual(['unmapped-antenna', 'bad-epc', 'unknown-reader']);
    expect(presence.health()).toEqual([
      { readerId: 'r1', connected: true, lastReadAt: null },
      { readerId: 'r2', connected: true, lastReadAt: null },
    ]);
  });

  it('keeps the last read time per reader for the gateway status', () => {
    const { clock, presence, read } = setup();
    clock.advance(1234);
    read(EPC1);
    expect(presence.health()[0]).toEqual({ readerId: 'r1', connected: true, lastReadAt: clock.now() });
  });
});
