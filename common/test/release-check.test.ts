import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkRelease,
  fxFactor,
  pledgeQuantities,
  releasedGoods,
  valuePledge,
  type FxRate,
  type Pledge,
  type ReleaseCheckInput,
  type TagState,
} from '../src/index.ts';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const AT = '2026-11-28T11:00:00.000Z';
const limits = { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 };
const epc = (n: number): string => `E${n.toString(16).toUpperCase().padStart(8, '0')}`;

/** A pledge of `n` items of `size` t, each present, missing or relocated as `states` says. */
function scenario(sizes: number[], states: ('present' | 'missing' | 'relocated')[], outstanding: number, price: number) {
  const pledge: Pick<Pledge, 'siteId' | 'zones' | 'items'> = {
    siteId: 's1',
    zones: ['z1'],
    items: sizes.map((quantity, i) => ({ epc: epc(i), quantity })),
  };
  const tags = new Map<string, TagState>(
    sizes.map((_, i) => {
      const state = states[i % states.length] ?? 'present';
      const t: TagState = {
        epc: epc(i), gatewayId: 'gw', siteId: 's1', zone: state === 'relocated' ? 'z9' : 'z1', readerId: 'r1',
        present: state !== 'missing', lastSeenAt: AT, updatedAt: AT,
      };
      return [epc(i), t];
    }),
  );
  const input: ReleaseCheckInput = {
    valuation: {
      pledgeId: 'PL-1', unit: 't', loan: { outstanding, currency: 'USD' }, haircut: 0.15, limits,
      price: { commodity: 'cu', price, currency: 'USD', unit: 't', at: AT, source: 'lme' }, now: NOW,
    },
    releases: [],
    quantitiesWith: (released) => pledgeQuantities(pledge, (e) => tags.get(e), () => true, released),
  };
  return input;
}

const arbScenario = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 500 }).map((n) => n / 10), { minLength: 1, maxLength: 12 }),
  states: fc.array(fc.constantFrom('present' as const, 'missing' as const, 'relocated' as const), { minLength: 1, maxLength: 4 }),
  outstanding: fc.integer({ min: 0, max: 20_000_000 }).map((c) => c / 100),
  price: fc.integer({ min: 1, max: 2_000_000 }).map((c) => c / 100),
});

describe('checkRelease', () => {
  it('never accepts a release after which the LTV is at or above the margin-call limit (property)', () => {
    fc.assert(
      fc.property(arbScenario, fc.array(fc.nat(), { maxLength: 5 }), fc.option(fc.integer({ min: 1, max: 6000 }).map((n) => n / 10)), (s, picks, quantity) => {
        const input = scenario(s.sizes, s.states, s.outstanding, s.price);
        const epcs = [...new Set(picks.map((p) => epc(p % s.sizes.length)))];
        const d = checkRelease(input, { epcs, quantity: quantity ?? undefined });
        // Recompute independently of the check: value the pledge with the release applied.
        const after = valuePledge({ ...input.valuation, quantities: input.quantitiesWith(releasedGoods([{ epcs, quantity: quantity ?? undefined }])) });
        const breaks = after.ltv === null || after.ltv >= limits.marginCallLtv;
        expect(d.accepted).toBe(!breaks);
        expect(d.after.ltv).toBe(after.ltv);
      }),
      { numRuns: 300 },
    );
  });

  it('names the largest quantity that may be released: it is accepted, a millionth more is not (property)', () => {
    fc.assert(
      fc.property(arbScenario, (s) => {
        const input = scenario(s.sizes, s.states, s.outstanding, s.price);
        const d = checkRelease(input, { epcs: [], quantity: 1e9 });
        const pledged = input.quantitiesWith(releasedGoods([])).pledged;
        expect(d.maxQuantity).toBeGreaterThanOrEqual(0);
        expect(d.maxQuantity).toBeLessThanOrEqual(pledged + 1e-9);
        if (d.maxQuantity > 0) expect(checkRelease(input, { epcs: [], quantity: d.maxQuantity }).accepted).toBe(true);
        if (d.maxQuantity + 1e-6 <= pledged) expect(checkRelease(input, { epcs: [], quantity: d.maxQuantity + 1e-6 }).accepted).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('takes a quantity from missing goods first: releasing what is gone costs no eligible value', () => {
    const input = scenario([2, 2, 2], ['present', 'missing', 'present'], 10_000, 8000);
    const d = checkRelease(input, { epcs: [], quantity: 2 });
    expect(d.after.quantity).toMatchObject({ pledged: 4, present: 4, missing: 0 });
    expect(d.accepted).toBe(true);
  });

  it('refuses any release with money owed and nothing eligible (no usable price)', () => {
    const input = scenario([5], ['present'], 1, 8000);
    const stale = { ...input, valuation: { ...input.valuation, now: NOW + 48 * 3600_000 } };
    const d = checkRelease(stale, { epcs: [], quantity: 0.1 });
    expect(d).toMatchObject({ accepted: false, maxQuantity: 0 });
    expect(d.after.ltv).toBeNull();
  });
});

describe('fxFactor', () => {
  const rate = (base: string, quote: string, r: number, at = AT): FxRate => ({ base, quote, rate: r, at, source: 'ecb' });
  it.each([
    ['same currency', 'USD', 'USD', null, null, 1],
    ['direct rate', 'USD', 'EUR', rate('USD', 'EUR', 0.9), null, 0.9],
    ['inverse rate', 'USD', 'EUR', null, rate('EUR', 'USD', 1.25), 0.8],
    ['newer of both', 'USD', 'EUR', rate('USD', 'EUR', 0.9, AT), rate('EUR', 'USD', 1.25, '2026-11-28T11:30:00.000Z'), 0.8],
    ['none', 'USD', 'EUR', null, null, null],
  ] as const)('%s', (_name, from, to, direct, inverse, expected) => {
    expect(fxFactor(from, to, direct, inverse)).toBe(expected);
  });
});
