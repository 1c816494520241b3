import { describe, expect, it } from 'vitest';
import { FakeClock, type UplinkEvent } from '@pledgewatch/common';
import { Batcher, MemoryOutbox } from '../src/index.ts';

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

describe('memory outbox', () => {
  it('hands batches out oldest first, forgets acknowledged ones and re-offers released ones first', () => {
    const outbox = new MemoryOutbox(100);
    outbox.append({ seq: 1, events: events(0, 2) });
    outbox.append({ seq: 2, events: events(2, 1) });
    outbox.append({ seq: 3, events: events(3, 1) });
    expect(outbox.take()?.seq).toBe(1);
    expect(outbox.take()?.seq).toBe(2);
    outbox.release(1);
    outbox.ack(2);
    expect(outbox.depth).toBe(3);
    expect(outbox.take()?.seq).toBe(1);
    expect(outbox.take()?.seq).toBe(3);
    expect(outbox.take()).toBeUndefined();
  });

  it('when full drops the oldest waiting batches, never one in flight, and counts the events', () => {
    const outbox = new MemoryOutbox(4);
    outbox.append({ seq: 1, events: events(0, 2) });
    outbox.append({ seq: 2, events: events(2, 2) });
    expect(outbox.take()?.seq).toBe(1);
    expect(outbox.append({ seq: 3, events: events(4, 2) })).toBe(2);
    expect(outbox.dropped).toBe(2);
    expect(outbox.depth).toBe(4);
    outbox.ack(1);
    expect(outbox.take()?.seq).toBe(3);
  });
});
