import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pledgeQuantities, releasedGoods, type Pledge, type TagState } from '@pledgewatch/common';
import { LiveState } from '../src/domain/live-state.ts';
import { pledgeFixture } from './harness.ts';

const T = '2026-03-01T08:00:00.000Z';
const EPCS = Array.from({ length: 12 }, (_, i) => `E2801100000000000000000${i.toString(16).toUpperCase()}`);

const tagArb = (epc: string) =>
  fc.record({
    present: fc.boolean(),
    zone: fc.constantFrom('A1', 'A2', 'B9'),
    siteId: fc.constantFrom('site-1', 'site-2'),
    readerId: fc.constantFrom('r1', 'r2'),
  }).map((t): TagState => ({ epc, gatewayId: 'gw-1', lastSeenAt: T, updatedAt: T, ...t }));

describe('pledge tally', () => {
  it('agrees with pledgeQuantities after any sequence of tag changes, reader health and releases', () => {
    const pledge: Pledge = pledgeFixture({ zones: ['A1', 'A2'], items: EPCS.map((epc, i) => ({ epc, quantity: 0.1 + i * 0.7 })) });
    const change = fc.integer({ min: 0, max: EPCS.length - 1 }).chain((i) => tagArb(EPCS[i] as string));
    fc.assert(
      fc.property(fc.array(change, { maxLength: 60 }), fc.boolean(), fc.subarray(EPCS), fc.nat({ max: 20 }), (changes, r2up, released, releasedQty) => {
        const live = new LiveState();
        live.gateways.set('gw-1', { id: 'gw-1', siteId: 'site-1', online: true });
        live.putReader({ gatewayId: 'gw-1', readerId: 'r2', connected: r2up, at: T });
        live.putPledge(pledge);
        changes.slice(0, 20).forEach((t) => live.putTag(t));
        live.putRelease({ id: 'rel-1', tenant: 'bank-a', pledgeId: pledge.id, epcs: released, quantity: releasedQty, reason: 'sold', createdAt: T });
        changes.slice(20).forEach((t) => live.putTag(t));
        const expected = pledgeQuantities(pledge, (e) => live.tagOf(e), live.readerIsUp, releasedGoods([{ epcs: released, quantity: releasedQty }]));
        const got = live.tallyOf(pledge.id)?.quantities(live.readerIsUp);
        for (const k of Object.keys(expected) as (keyof typeof expected)[]) expect(got?.[k]).toBeCloseTo(expected[k], 6);
      }),
    );
  });
});
