import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pledgeQuantities, releasedGoods, releaseQuantity, type Quantities, type TagState } from '../src/index.ts';

const T = '2026-03-01T08:00:00.000Z';
const tag = (epc: string, over: Partial<TagState> = {}): TagState => ({
  epc, gatewayId: 'gw', siteId: 's1', zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T, updatedAt: T, ...over,
});
const pledge = { siteId: 's1', zones: ['A1'], items: ['E1', 'E2', 'E3', 'E4'].map((epc) => ({ epc, quantity: 2 })) };
const up = () => true;

describe('pledgeQuantities with releases', () => {
  const tags = new Map([
    ['E1', tag('E1')],
    ['E2', tag('E2', { present: false })],
    ['E3', tag('E3', { zone: 'DOCK' })],
  ]);

  it('leaves released EPCs out of the pledge wherever they are', () => {
    const released = releasedGoods([{ epcs: ['e2'] }, { epcs: ['E3'] }]);
    expect(pledgeQuantities(pledge, (e) => tags.get(e), up, released)).toEqual({
      pledged: 4, present: 2, missing: 0, relocated: 0, damaged: 0, unknown: 2,
    });
  });

  it('takes a released quantity from missing, relocated, unknown, then present', () => {
    const q = (n: number) => pledgeQuantities(pledge, (e) => tags.get(e), up, releasedGoods([{ epcs: [], quantity: n }]));
    expect(q(1)).toMatchObject({ pledged: 7, missing: 1, relocated: 2, unknown: 2, present: 2 });
    expect(q(5)).toMatchObject({ pledged: 3, missing: 0, relocated: 0, unknown: 1, present: 2 });
    expect(q(7)).toMatchObject({ pledged: 1, missing: 0, relocated: 0, unknown: 0, present: 1 });
    expect(q(9)).toMatchObject({ pledged: 0, present: 0 });
  });

  it('keeps pledged = present + missing + relocated + unknown for any release', () => {
    const bucket = fc.nat({ max: 1000 });
    fc.assert(
      fc.property(bucket, bucket, bucket, bucket, fc.nat({ max: 5000 }), (present, missing, relocated, unknown, release) => {
        const q: Quantities = { pledged: present + missing + relocated + unknown, present, missing, relocated, unknown, damaged: 0 };
        const r = releaseQuantity(q, release);
        expect(r.present + r.missing + r.relocated + r.unknown).toBe(r.pledged);
        expect(r.pledged).toBe(Math.max(0, q.pledged - release));
        expect(r.present).toBe(Math.min(present, r.pledged));
      }),
    );
  });

  it('counts a bulk pledge as unknown until scales can vouch for it', () => {
    const bulk = { siteId: 's1', zones: ['A1'], items: [], quantity: 500 };
    expect(pledgeQuantities(bulk, () => undefined, up, releasedGoods([{ epcs: [], quantity: 100 }]))).toMatchObject({
      pledged: 400, unknown: 400, present: 0,
    });
  });
});
