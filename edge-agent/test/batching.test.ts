import { describe, expect, it } from 'vitest';
import { FakeClock, type UplinkEvent } from '@pledgewatch/common';
import { Batcher } from '../src/index.ts';

const event = (n: number): UplinkEvent => ({ type: 'reader.status', at: '2026-11-28T20:00:00.000Z', readerId: `r${n}`, connected: true });
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

describe('batcher', () => {
  function setup() {
    const clock = new FakeClock();
    const batches: UplinkEvent[][] = [];
    const batcher = new Batcher({ maxEvents: 3, maxDelayMs: 250, clock, onBatch: (b) => batches.push(b) });
    return { clock, batcher, batches };
  }

  it('closes a batch when it is full', () => {
    const { batcher, batches } = setup();
    events(0, 7).forEach((e) => batcher.add(e));
    expect(batches).toEqual([events(0, 3), events(3, 3)]);
    expect(batcher.size).toBe(1);
  });

  it('closes a batch maxDelayMs after its first event', () => {
    const { clock, batcher, batches } = setup();
    batcher.add(event(0));
    clock.advance(200);
    batcher.add(event(1));
    clock.advance(49);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([events(0, 2)]);
    clock.advance(1000);
    expect(batches).toHaveLength(1);
  });

  it('flushes on demand and never sends an empty batch', () => {
    const { clock, batcher, batches } = setup();
    batcher.flush();
    batcher.add(event(0));
    batcher.flush();
    clock.advance(1000);
    expect(batches).toEqual([[event(0)]]);
  });
});
