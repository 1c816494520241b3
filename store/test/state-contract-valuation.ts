/** StateStore contract, the valuation issue's part: loan changes and FX rates. */
import { describe, expect, it } from 'vitest';
import type { FxRate } from '@pledgewatch/common';
import type { StoreContext } from './state-contract.ts';
import { at, epc, pledge } from './fixtures.ts';

const fx = (base: string, quote: string, rate: number, ms: number): FxRate => ({ base, quote, rate, at: at(ms), source: 'ecb' });

export function describeStateValuationContract(ctx: StoreContext): void {
  describe('loan changes', () => {
    it('sets the outstanding of the tenant’s own pledge and reports the pledge as changed', async () => {
      const p = pledge({ id: 'p1', epcs: [epc(1)], createdAt: at(1_000) });
      await ctx.store.createPledge(p);
      expect(await ctx.store.updatePledgeLoan('bank-b', 'p1', 5, at(2_000))).toBeNull();
      expect(await ctx.store.updatePledgeLoan('bank-a', 'nope', 5, at(2_000))).toBeNull();
      expect(await ctx.store.listPledgesChangedSince(at(1_000))).toEqual([]);
      const updated = await ctx.store.updatePledgeLoan('bank-a', 'p1', 40_000.5, at(2_000));
      expect(updated).toEqual({ ...p, loan: { outstanding: 40_000.5, currency: 'EUR' } });
      expect(await ctx.store.getPledge('bank-a', 'p1')).toEqual(updated);
      expect(await ctx.store.listPledgesChangedSince(at(1_999))).toEqual([updated]);
      // A change stamped no later than the last one still moves the change time forward.
      await ctx.store.updatePledgeLoan('bank-a', 'p1', 1, at(500));
      expect((await ctx.store.listPledgesChangedSince(at(2_000))).map((x) => x.loan.outstanding)).toEqual([1]);
    });
  });

  describe('fx rates', () => {
    it('keeps the newest rate per pair', async () => {
      expect(await ctx.store.getFxRate('EUR', 'USD')).toBeNull();
      expect(await ctx.store.putFxRate(fx('EUR', 'USD', 1.08, 1_000))).toBe(true);
      expect(await ctx.store.putFxRate(fx('USD', 'EUR', 0.93, 0))).toBe(true);
      expect(await ctx.store.putFxRate(fx('EUR', 'USD', 1.07, 500))).toBe(false);
      expect(await ctx.store.putFxRate(fx('EUR', 'USD', 1.06, 1_000))).toBe(false);
      expect(await ctx.store.getFxRate('EUR', 'USD')).toEqual(fx('EUR', 'USD', 1.08, 1_000));
      expect(await ctx.store.putFxRate(fx('EUR', 'USD', 1.09, 2_000))).toBe(true);
      expect(await ctx.store.getFxRate('EUR', 'USD')).toEqual(fx('EUR', 'USD', 1.09, 2_000));
      expect(await ctx.store.getFxRate('USD', 'EUR')).toEqual(fx('USD', 'EUR', 0.93, 0));
    });
  });
}
