import { describe, expect, it } from 'vitest';
import { FakeClock } from '@pledgewatch/common';
import { checkEdgeConfig, createReaderDriver, SimulatedReader, type ReaderEvents } from '../src/index.ts';

const A = '3034257BF7194E4000001A85';
const B = '3034257BF7194E4000001A86';
const C = '3034257BF7194E4000001A87';

type Logged = { [K in keyof ReaderEvents]: { kind: K } & ReaderEvents[K] }[keyof ReaderEvents];

function setup(options: { missProbability?: number; random?: () => number; rssi?: number } = {}) {
  const clock = new FakeClock('2026-11-28T20:00:00.000Z');
  const reader = new SimulatedReader({
    id: 'r1',
    settings: {
      roundMs: 1000,
      missProbability: options.missProbability ?? 0,
      ...(options.rssi === undefined ? {} : { rssi: options.rssi }),
      tags: { '1': [A, B], '2': [C] },
    },
    clock,
    random: options.random ?? (() => 0.5),
  });
  const log: Logged[] = [];
  reader.on('read', (e) => log.push({ kind: 'read', ...e }));
  reader.on('round', (e) => log.push({ kind: 'round', ...e }));
  reader.on('status', (e) => log.push({ kind: 'status', ...e }));
  return { clock, reader, log, take: () => log.splice(0) };
}

describe('simulated reader', () => {
  it('reads every tag on every antenna once per round, then ends the round', async () => {
    const { clock, reader, take } = setup({ rssi: -60 });
    await reader.start();
    expect(take()).toEqual([{ kind: 'status', connected: true }]);
    clock.advance(999);
    expect(take()).toEqual([]);
    clock.advance(1);
    const at = clock.now();
    expect(take()).toEqual([
      { kind: 'read', epc: A, antenna: 1, rssi: -60, at },
      { kind: 'read', epc: B, antenna: 1, rssi: -60, at },
      { kind: 'read', epc: C, antenna: 2, rssi: -60, at },
      { kind: 'round', at },
    ]);
  });

  it('misses reads with the configured probability, drawn from the injected random source', async () => {
    const draws = [0.05, 0.5, 0.5, 0.5, 0.05, 0.05];
    const { clock, reader, take } = setup({ missProbability: 0.1, random: () => draws.shift() ?? 0.5 });
    await reader.start();
    take();
    clock.advance(2000);
    expect(take().map((e) => (e.kind === 'read' ? e.epc : e.kind))).toEqual([B, C, 'round', A, 'round']);
  });

  it('adds, removes and moves tags between antennas', async () => {
    const { clock, reader, take } = setup();
    await reader.start();
    reader.addTags(3, ['3034257BF7194E4000001A88']);
    reader.removeTags([B]);
    reader.moveTags([A], 2);
    take();
    clock.advance(1000);
    const reads = take().flatMap((e) => (e.kind === 'read' ? [`${e.antenna}:${e.epc}`] : []));
    expect(reads.sort()).toEqual([`2:${A}`, `2:${C}`, '3:3034257BF7194E4000001A88']);
    expect(reader.tagsOn(1)).toEqual([]);
  });

  it('on disconnect reports it and goes silent until reconnected', async () => {
    const { clock, reader, take } = setup();
    await reader.start();
    take();
    reader.setConnected(false);
    reader.setConnected(false);
    clock.advance(5000);
    expect(take()).toEqual([{ kind: 'status', connected: false, error: 'simulated disconnect' }]);
    reader.setConnected(true);
    clock.advance(1000);
    const events = take();
    expect(events[0]).toEqual({ kind: 'status', connected: true });
    expect(events.filter((e) => e.kind === 'round')).toHaveLength(1);
  });

  it('stops emitting after stop()', async () => {
    const { clock, reader, take } = setup();
    await reader.start();
    await reader.stop();
    take();
    clock.advance(10_000);
    expect(take()).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('is what the factory builds for driver "simulated", seeded from the config', async () => {
    const config = checkEdgeConfig({
      gatewayId: 'gw-01',
      dataDir: '/tmp/x',
      uplink: { url: 'mqtt://localhost' },
      readers: [{ id: 'r1', driver: 'simulated', antennas: { '1': 'A1' }, simulated: { roundMs: 200, missProbability: 0, tags: { '1': [A] } } }],
    });
    const clock = new FakeClock();
    const driver = createReaderDriver(config.readers[0]!, clock);
    expect(driver).toBeInstanceOf(SimulatedReader);
    expect(driver.id).toBe('r1');
    const epcs: string[] = [];
    driver.on('read', (r) => epcs.push(r.epc));
    await driver.start();
    clock.advance(400);
    expect(epcs).toEqual([A, A]);
  });
});
