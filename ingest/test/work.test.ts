import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Pledge, ReaderHealth, TagState } from '@pledgewatch/common';
import { applyEvent } from '../src/domain/events/index.ts';
import { LiveState } from '../src/domain/live-state.ts';
import { BatchWork } from '../src/domain/work.ts';
import { pledgeFixture } from './harness.ts';

const EPCS = Array.from({ length: 10 }, (_, i) => `E2801100000000000000000${i.toString(16).toUpperCase()}`);
const ZONES = ['A1', 'A2', 'B9'];
const READERS = ['r1', 'r2'];
const time = (s: number) => new Date(Date.UTC(2026, 2, 1, 8, 0, s)).toISOString();

const tagArb = fc.record({
  epc: fc.constantFrom(...EPCS),
  gatewayId: fc.constantFrom('gw-1', 'gw-2'),
  zone: fc.constantFrom(...ZONES),
  readerId: fc.constantFrom(...READERS),
  present: fc.boolean(),
  t: fc.nat({ max: 30 }),
}).map(({ t, ...x }): TagState => ({ ...x, siteId: x.gatewayId === 'gw-1' ? 'site-1' : 'site-2', lastSeenAt: time(t), updatedAt: time(t) }));

const readerArb = fc.record({ readerId: fc.constantFrom(...READERS), connected: fc.boolean(), t: fc.nat({ max: 30 }) })
  .map(({ t, ...r }): ReaderHealth => ({ gatewayId: 'gw-1', ...r, at: time(t) }));

/** Events of every kind that changes tag or reader state, as gw-1 sends them. */
const eventArb = fc.oneof(
  fc.record({ epc: fc.constantFrom(...EPCS), zone: fc.constantFrom(...ZONES), readerId: fc.constantFrom(...READERS), t: fc.nat({ max: 30 }) })
    .map(({ t, ...e }) => ({ type: 'tag.arrived' as const, at: time(t), ...e })),
  fc.record({ epc: fc.constantFrom(...EPCS), zone: fc.constantFrom(...ZONES), readerId: fc.constantFrom(...READERS), t: fc.nat({ max: 30 }) })
    .map(({ t, ...e }) => ({ type: 'tag.moved' as const, at: time(t), fromZone: 'A1', ...e })),
  fc.record({ epc: fc.constantFrom(...EPCS), zone: fc.constantFrom(...ZONES), readerId: fc.constantFrom(...READERS), t: fc.nat({ max: 30 }) })
    .map(({ t, ...e }) => ({ type: 'tag.departed' as const, at: time(t), lastSeenAt: time(t), ...e })),
  fc.record({ epcs: fc.subarray(EPCS), zone: fc.constantFrom(...ZONES), readerId: fc.constantFrom(...READERS), t: fc.nat({ max: 30 }) })
    .map(({ t, ...e }) => ({ type: 'inventory.snapshot' as const, at: time(t), ...e })),
  fc.record({ readerId: fc.constantFrom(...READERS), connected: fc.boolean(), t: fc.nat({ max: 30 }) })
    .map(({ t, ...e }) => ({ type: 'reader.status' as const, at: time(t), ...e })),
);

function liveWith(pledge: Pledge, tags: TagState[], readers: ReaderHealth[]): LiveState {
  const live = new LiveState();
  live.gateways.set('gw-1', { id: 'gw-1', siteId: 'site-1', online: true });
  live.gateways.set('gw-2', { id: 'gw-2', siteId: 'site-2', online: true });
  live.putPledge(pledge);
  for (const r of readers) live.putReader(r);
  for (const t of tags) live.putTag(t);
  return live;
}

/** Everything a batch may change, in a comparable form. */
function snapshot(live: LiveState, pledge: Pledge) {
  return {
    tags: [...live.tags()].sort((a, b) => a.epc.localeCompare(b.epc)),
    readers: [...live.readers.entries()].sort(([a], [b]) => a.localeCompare(b)),
    present: ['gw-1', 'gw-2'].flatMap((g) => READERS.flatMap((r) => ZONES.map((z) => [g, r, z, [...live.presentIn(g, r, z)].sort()]))),
    quantities: live.tallyOf(pledge.id)?.quantities(live.readerIsUp),
    byReaders: live.tallyOf(pledge.id)?.byReaders().sort((a, b) => `${a.gatewayId}/${a.readerId}`.localeCompare(`${b.gatewayId}/${b.readerId}`)),
  };
}

const PLEDGE = pledgeFixture({ zones: ['A1', 'A2'], items: EPCS.slice(0, 8).map((epc, i) => ({ epc, quantity: 1 + i })) });

/** Live state holding `tags` and `readers`, and a batch of gw-1's about to be applied to it. */
function batchOn(tags: TagState[], readers: ReaderHealth[]): { live: LiveState; work: BatchWork } {
  const live = liveWith(PLEDGE, tags, readers);
  return { live, work: new BatchWork(live, live.gateways.get('gw-1') as NonNullable<ReturnType<typeof live.gateways.get>>) };
}

const applyAll = (work: BatchWork, events: Parameters<typeof applyEvent>[1][]) => {
  for (const e of events) applyEvent(work, e);
};

describe('a batch applied to live state', () => {
  it('is taken back exactly by undo: tags, readers, present index and the pledge tally as before', () => {
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 15 }), fc.array(readerArb, { maxLength: 3 }), fc.array(eventArb, { minLength: 1, maxLength: 20 }), (tags, readers, events) => {
        const { live, work } = batchOn(tags, readers);
        const committed = () => EPCS.map((e) => live.entryOf(e).committed);
        const before = { ...snapshot(live, PLEDGE), committed: committed() };
        applyAll(work, events);
        work.undo();
        expect({ ...snapshot(live, PLEDGE), committed: committed() }).toEqual(before);
      }),
    );
  });

  it('leaves live state as a fresh count of the same tags would (the tally follows the changes)', () => {
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 15 }), fc.array(eventArb, { minLength: 1, maxLength: 20 }), (tags, events) => {
        const { live, work } = batchOn(tags, []);
        const before = new Map([...live.tags()].map((t) => [t.epc, t]));
        applyAll(work, events);
        const recounted = liveWith(PLEDGE, [...live.tags()], [...live.readers.values()]);
        expect(snapshot(live, PLEDGE)).toEqual(snapshot(recounted, PLEDGE));
        for (const p of work.pledgeIds) expect(p).toBe(PLEDGE.id);
        // Committed, the changed tags, as they stand, are what a checkpoint writes.
        const entries = work.committed();
        for (const e of entries) expect(e.committed).toBe(live.tagOf(e.epc));
        // Every tag the batch changed is among them.
        const changed = [...live.tags()].filter((t) => before.get(t.epc) !== t).map((t) => t.epc);
        expect(new Set(entries.map((e) => e.epc))).toEqual(new Set(changed));
      }),
    );
  });

  it('stands once committed: a later undo leaves it in live state, as it is in the store', () => {
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 15 }), fc.array(eventArb, { minLength: 1, maxLength: 20 }), (tags, events) => {
        const { live, work } = batchOn(tags, []);
        applyAll(work, events);
        const applied = snapshot(live, PLEDGE);
        work.committed();
        work.undo();
        expect(snapshot(live, PLEDGE)).toEqual(applied);
      }),
    );
  });
});
