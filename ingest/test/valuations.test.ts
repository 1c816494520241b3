/** Ingest's valuation state as pure code: the price book, the status it publishes, and order-independence. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime, valuePledge, VALUATION_STATUSES, type FxRate, type Pledge, type PriceRecord, type Quantities } from '@pledgewatch/common';
import { ruleConfig } from '../src/rules/config.ts';
import { PledgeValuations } from '../src/valuation/valuations.ts';
import { PriceBook } from '../src/valuation/price-book.ts';
import { pledgeFixture } from './harness.ts';

const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const price = (value: number, atS: number, currency = 'USD'): PriceRecord => ({
  commodity: 'copper-cathode',
  price: value,
  currency,
  unit: 't',
  at: isoTime(T0 + atS * 1000),
  source: 'LME 3M',
});
const rate = (value: number, atS: number, base = 'USD', quote = 'EUR'): FxRate => ({ base, quote, rate: value, at: isoTime(T0 + atS * 1000), source: 'ECB' });
const q = (over: Partial<Quantities> = {}): Quantities => ({ pledged: 10, present: 10, missing: 0, relocated: 0, damaged: 0, unknown: 0, ...over });

describe('price book', () => {
  it('keeps the newest price and rate whatever order they come in, and says what changed', () => {
    const book = new PriceBook();
    expect(book.takeAll([price(9_000, 10), price(8_000, 5)], [rate(0.9, 10)])).toEqual({
      commodities: new Set(['copper-cathode']),
      currencies: new Set(['USD', 'EUR']),
    });
    expect(book.price('copper-cathode')?.price).toBe(9_000);
    expect(book.takeAll([price(9_000, 10)], [rate(0.9, 10)])).toEqual({ commodities: new Set(), currencies: new Set() });
    expect(book.rate('USD', 'EUR')).toBe(0.9);
    // The newer direction wins, as in the API's loadFxRate.
    book.putRate(rate(1.25, 20, 'EUR', 'USD'));
    expect(book.rate('USD', 'EUR')).toBe(0.8);
    expect(book.rate('EUR', 'EUR')).toBe(1);
    expect(book.rate('USD', 'JPY')).toBeNull();
  });
});

describe('valuation settings', () => {
  it('takes a maximum price age per commodity and names a wrong one', () => {
    const config = ruleConfig({ maxPriceAgeS: 7_200, maxPriceAgeByCommodityS: { 'copper-cathode': 1_800 } }).valuation;
    expect(config).toEqual({ priceAges: { defaultMs: 7_200_000, byCommodityMs: { 'copper-cathode': 1_800_000 } }, blindConfirmationMs: 60_000 });
    expect(() => ruleConfig({ maxPriceAgeByCommodityS: { 'copper cathode': 60, wheat: 0 } })).toThrow(
      /\/maxPriceAgeByCommodityS\/copper cathode: unknown key.*\/maxPriceAgeByCommodityS\/wheat: must be > 0|\/wheat.*\/copper cathode/,
    );
  });
});

describe('published status', () => {
  const config = ruleConfig({}).valuation;

  it('keeps the published status while the LTV cannot be measured', () => {
    const v = new PledgeValuations(config);
    const pledge = pledgeFixture({ loan: { outstanding: 51_000, currency: 'EUR' } });
    v.setPublished(pledge.id, 'warning');
    // A USD price and no USD→EUR rate: nothing eligible, LTV unbounded, yet the status stays.
    v.prices.putPrice(price(10_000, 0));
    const fact = v.assess(pledge, q(), T0);
    expect(fact.value).toMatchObject({ ltv: null, status: 'liquidation', issues: ['no FX rate USD→EUR'] });
    expect(fact).toMatchObject({ status: 'warning', published: 'warning' });
  });

  it('gives the same value for the same inputs without computing it again', () => {
    const v = new PledgeValuations(config);
    const pledge = pledgeFixture({ loan: { outstanding: 51_000, currency: 'USD' } });
    v.prices.putPrice(price(10_000, 0));
    const first = v.assess(pledge, q(), T0);
    expect(v.assess(pledge, q(), T0 + 1_000).value).toBe(first.value);
    expect(v.assess(pledge, q({ present: 9, missing: 1 }), T0 + 1_000).value).not.toBe(first.value);
    // Ageing into staleness is a change of input too.
    expect(v.assess(pledge, q(), T0 + 86_400_001).value.price?.stale).toBe(true);
  });
});

describe('revaluation', () => {
  const config = ruleConfig({ maxPriceAgeS: 1_800 }).valuation;
  const now = T0 + 3_600_000;
  type Change = { kind: 'price'; p: PriceRecord } | { kind: 'rate'; r: FxRate } | { kind: 'loan'; outstanding: number } | { kind: 'quantities'; q: Quantities };

  /** Applies the changes in the given order, looking after each one (as ingest does), and returns the last look. */
  function apply(changes: readonly Change[], previous: (typeof VALUATION_STATUSES)[number]) {
    const v = new PledgeValuations(config);
    let pledge: Pledge = pledgeFixture({ loan: { outstanding: 10_000, currency: 'EUR' } });
    let quantities = q();
    v.setPublished(pledge.id, previous);
    for (const c of changes) {
      if (c.kind === 'price') v.prices.putPrice(c.p);
      else if (c.kind === 'rate') v.prices.putRate(c.r);
      else if (c.kind === 'loan') pledge = { ...pledge, loan: { ...pledge.loan, outstanding: c.outstanding } };
      else quantities = c.q;
      v.assess(pledge, quantities, now);
    }
    return { fact: v.assess(pledge, quantities, now), pledge, quantities, book: v.prices };
  }

  const changes = fc
    .record({
      prices: fc.uniqueArray(fc.record({ value: fc.integer({ min: 500, max: 20_000 }), atS: fc.integer({ min: 0, max: 3_600 }) }), {
        selector: (p) => p.atS,
        minLength: 1,
        maxLength: 4,
      }),
      rates: fc.uniqueArray(fc.record({ value: fc.double({ min: 0.5, max: 2, noNaN: true }), atS: fc.integer({ min: 0, max: 3_600 }), inverse: fc.boolean() }), {
        selector: (r) => `${r.atS}`,
        maxLength: 3,
      }),
      outstanding: fc.integer({ min: 0, max: 200_000 }),
      present: fc.integer({ min: 0, max: 20 }),
      unknown: fc.integer({ min: 0, max: 20 }),
    })
    .map(({ prices, rates, outstanding, present, unknown }): Change[] => {
      const p = present / 2;
      const u = Math.min(unknown / 2, 10 - p);
      return [
        ...prices.map((x): Change => ({ kind: 'price', p: price(x.value, x.atS) })),
        ...rates.map((x): Change => ({ kind: 'rate', r: x.inverse ? rate(x.value, x.atS, 'EUR', 'USD') : rate(x.value, x.atS) })),
        { kind: 'loan', outstanding },
        { kind: 'quantities', q: q({ present: p, unknown: u, missing: Math.max(0, 10 - p - u) }) },
      ];
    });

  it('reaches the same valuation and status whatever order prices, FX rates, the loan and quantities change in', () => {
    fc.assert(
      fc.property(
        changes.chain((cs) => fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length }), fc.shuffledSubarray(cs, { minLength: cs.length }))),
        fc.constantFrom(...VALUATION_STATUSES),
        ([, one, other], previous) => {
          const a = apply(one, previous);
          const b = apply(other, previous);
          expect(b.fact).toEqual(a.fact);
          // …and the same as valuing the final inputs from scratch, as the API does.
          const p = a.book.price('copper-cathode');
          const direct = valuePledge({
            pledgeId: a.pledge.id,
            unit: a.pledge.unit,
            loan: a.pledge.loan,
            haircut: a.pledge.haircut,
            limits: a.pledge.limits,
            quantities: a.quantities,
            price: p,
            fxRate: p === null ? null : a.book.rate(p.currency, 'EUR'),
            now,
            maxPriceAgeMs: 1_800_000,
            previousStatus: previous,
          });
          expect(a.fact.value).toEqual(direct);
        },
      ),
      { numRuns: 300 },
    );
  });
});
