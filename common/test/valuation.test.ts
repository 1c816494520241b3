import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ltvStatus, roundMoney, valuePledge, type PriceRecord, type Quantities, type ValuationInput } from '../src/index.ts';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const limits = { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 };
const q = (present: number, extra: Partial<Quantities> = {}): Quantities => ({
  pledged: 10, present, missing: 10 - present, relocated: 0, damaged: 0, unknown: 0, ...extra,
});
const price = (p: Partial<PriceRecord> = {}): PriceRecord => ({
  commodity: 'copper-cathode', price: 9000, currency: 'USD', unit: 't', at: '2026-11-28T11:00:00.000Z', source: 'lme', ...p,
});
const input = (over: Partial<ValuationInput> = {}): ValuationInput => ({
  pledgeId: 'PL-1', unit: 't', loan: { outstanding: 50_000, currency: 'USD' }, haircut: 0.15, limits,
  quantities: q(10), price: price(), now: NOW, ...over,
});

describe('valuePledge', () => {
  it('values present goods at the price, less the haircut', () => {
    const v = valuePledge(input());
    expect(v.marketValue).toBe(90_000);
    expect(v.eligibleValue).toBe(76_500);
    expect(v.ltv).toBeCloseTo(0.653595, 6);
    expect(v.headroom).toBe(7375);
    expect(v.status).toBe('warning');
    expect(v.price?.stale).toBe(false);
    expect(v.issues).toEqual([]);
  });

  it.each([
    ['missing goods reduce value', input({ quantities: q(5) }), { marketValue: 45_000, eligibleValue: 38_250, status: 'liquidation' }],
    ['damaged goods are present but not eligible', input({ quantities: q(10, { damaged: 2 }) }), { marketValue: 90_000, eligibleValue: 61_200 }],
    ['price per kg converts to a pledge in t', input({ price: price({ price: 9, unit: 'kg' }) }), { marketValue: 90_000 }],
    ['price per lb converts to a pledge in t', input({ price: price({ price: 1, unit: 'lb' }) }), { marketValue: 22_046.23 }],
    ['FX converts the price to the loan currency', input({ loan: { outstanding: 50_000, currency: 'EUR' }, fxRate: 0.9 }), { marketValue: 81_000, currency: 'EUR' }],
    ['no FX rate: nothing eligible', input({ loan: { outstanding: 50_000, currency: 'EUR' } }), { marketValue: 0, eligibleValue: 0, ltv: null, status: 'liquidation' }],
    ['units that do not convert: nothing eligible', input({ price: price({ unit: 'bale' }) }), { eligibleValue: 0 }],
    ['no price at all', input({ price: null }), { price: null, marketValue: 0, eligibleValue: 0, ltv: null }],
    ['stale price: market value shown, nothing eligible', input({ price: price({ at: '2026-11-26T11:00:00.000Z' }) }), { marketValue: 90_000, eligibleValue: 0, ltv: null, status: 'liquidation' }],
    ['zero eligible value with nothing owed is ok', input({ quantities: q(0), loan: { outstanding: 0, currency: 'USD' } }), { ltv: 0, status: 'ok', headroom: 0 }],
    ['JPY rounds to whole yen', input({ price: price({ currency: 'JPY', price: 1_333_333.333 }), loan: { outstanding: 1e6, currency: 'JPY' } }), { marketValue: 13_333_333 }],
  ])('%s', (_name, inp, expected) => {
    expect(valuePledge(inp)).toMatchObject(expected);
  });

  it('explains every value it does not count', () => {
    expect(valuePledge(input({ price: price({ at: '2026-01-01T00:00:00.000Z' }) })).issues[0]).toMatch(/older than its maximum age/);
    expect(valuePledge(input({ loan: { outstanding: 1, currency: 'EUR' } })).issues).toContain('no FX rate USD→EUR');
  });

  it('LTV never falls when the price falls (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e5, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (p, drop) => {
        const before = valuePledge(input({ price: price({ price: p }) })).ltv ?? Infinity;
        const after = valuePledge(input({ price: price({ price: p * drop }) })).ltv ?? Infinity;
        return after >= before;
      }),
    );
  });

  it('money has no binary-float artefacts', () => {
    expect(roundMoney(1.005, 'USD')).toBe(1.01);
    expect(roundMoney(0.1 + 0.2, 'USD')).toBe(0.3);
    expect(JSON.stringify(valuePledge(input({ price: price({ price: 0.1 }), quantities: q(3, { pledged: 3, missing: 0 }) })).marketValue)).toBe('0.3');
  });
});

describe('ltvStatus hysteresis', () => {
  it('steps up at the limit but steps down only a point below it', () => {
    expect(ltvStatus(0.75, limits, 'warning')).toBe('margin_call');
    expect(ltvStatus(0.745, limits, 'margin_call')).toBe('margin_call');
    expect(ltvStatus(0.739, limits, 'margin_call')).toBe('warning');
    expect(ltvStatus(0.5, limits, 'liquidation')).toBe('ok');
    expect(ltvStatus(null, limits, 'ok')).toBe('liquidation');
  });
});
