/** StateStore contract, the valuation issue's part: loan changes, prices and FX rates followed, published statuses. */
import { describe, expect, it } from 'vitest';
import type { FxRate, StatusChange, Valuation, ValuationStatus } from '@pledgewatch/common';
import type { StoreContext } from './state-contract.ts';
import { alert, at, batch, epc, pledge, price } from './fixtures.ts';

const fx = (base: string, quote: string, rate: number, ms: number): FxRate => ({ base, quote, rate, at: at(ms), source: 'ecb' });

export function statusChange(pledgeId: string, status: ValuationStatus, ms: number, ltv = 0.8): StatusChange {
  const valuation: Valuation = {
    pledgeId,
    at: at(ms),
    quantity: { pledged: 10, present: 10, missing: 0, relocated: 0, damaged: 0, unknown: 0 },
    price: { value: 210, currency: 'EUR', unit: 't', at: at(0), source: 'test-feed', stale: false },
    marketValue: 2100,
    eligibleValue: 1680,
    outstanding: 1344,
    currency: 'EUR',
    ltv,
    headroom: 0,
    status,
    issues: [],
  };
  return { tenant: 'bank-a', pledgeId, status, valuation, at: at(ms) };
}

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

  describe('prices and rates followed', () => {
    it('lists the newest price of every commodity and the newest rate of every pair', async () => {
      expect(await ctx.store.listPrices()).toEqual([]);
      expect(await ctx.store.listFxRates()).toEqual([]);
      await ctx.store.putPrice(price('wheat', 210, 1_000));
      await ctx.store.putPrice(price('copper', 9_000, 1_000));
      await ctx.store.putPrice(price('wheat', 220, 2_000));
      await ctx.store.putPrice(price('wheat', 200, 1_500));
      expect(await ctx.store.listPrices()).toEqual([price('copper', 9_000, 1_000), price('wheat', 220, 2_000)]);
      await ctx.store.putFxRate(fx('USD', 'EUR', 0.93, 1_000));
      await ctx.store.putFxRate(fx('EUR', 'USD', 1.08, 1_000));
      await ctx.store.putFxRate(fx('EUR', 'USD', 1.09, 2_000));
      expect(await ctx.store.listFxRates()).toEqual([fx('EUR', 'USD', 1.09, 2_000), fx('USD', 'EUR', 0.93, 1_000)]);
    });
  });

  describe('published statuses', () => {
    const statusEvents = async () =>
      (await ctx.store.eventsAfter(0, 100)).filter((e) => e.type === 'pledge.status_changed').map((e) => ({ pledgeId: e.pledgeId, alertId: e.alertId, tenant: e.tenant, data: e.data, createdAt: e.createdAt }));

    it('stores a changed status with its pledge.status_changed event, after the alert changes of the same transaction', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      // A new pledge reads as ok: publishing ok writes nothing.
      await ctx.store.applyAlertChanges([], [statusChange('p1', 'ok', 1_000)]);
      expect(await ctx.store.getPledgeStatus('p1')).toBeNull();
      const margin = statusChange('p1', 'margin_call', 2_000);
      const opened = alert({ id: 'a1', pledgeId: 'p1', type: 'MARGIN_CALL', subject: 'ltv' });
      await ctx.store.applyAlertChanges([{ kind: 'open', alert: opened }], [margin]);
      expect(await ctx.store.getPledgeStatus('p1')).toBe('margin_call');
      expect((await ctx.store.eventsAfter(0, 100)).map((e) => e.type)).toEqual(['alert.opened', 'pledge.status_changed']);
      expect(await statusEvents()).toEqual([
        {
          pledgeId: 'p1',
          alertId: null,
          tenant: 'bank-a',
          data: { pledgeId: 'p1', previousStatus: 'ok', status: 'margin_call', at: at(2_000), valuation: margin.valuation },
          createdAt: at(2_000),
        },
      ]);
      // The same status again (a replay, another process) records nothing; a step down does.
      await ctx.store.applyAlertChanges([], [statusChange('p1', 'margin_call', 3_000)]);
      await ctx.store.applyAlertChanges([], [statusChange('p1', 'warning', 4_000, 0.7)]);
      expect((await statusEvents()).map((e) => e.data)).toMatchObject([
        { previousStatus: 'ok', status: 'margin_call' },
        { previousStatus: 'margin_call', status: 'warning', valuation: { ltv: 0.7 } },
      ]);
      // A status for a pledge that does not exist changes nothing.
      await ctx.store.applyAlertChanges([], [statusChange('nope', 'liquidation', 5_000)]);
      expect(await ctx.store.getPledgeStatus('nope')).toBeNull();
      expect(await statusEvents()).toHaveLength(2);
    });

    it('commits status changes with the batch that caused them, and neither for a replayed or failing batch', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      expect(await ctx.store.commitBatch(batch('gw-1', 1), [], [statusChange('p1', 'warning', 1_000)])).toBe(true);
      expect(await ctx.store.commitBatch(batch('gw-1', 1), [], [statusChange('p1', 'liquidation', 2_000)])).toBe(false);
      expect(await ctx.store.getPledgeStatus('p1')).toBe('warning');
      const broken = alert({ id: 'a3', pledgeId: 'p1', updatedAt: 'not a time' });
      await expect(ctx.store.commitBatch(batch('gw-1', 2), [{ kind: 'open', alert: broken }], [statusChange('p1', 'liquidation', 3_000)])).rejects.toThrow();
      expect(await ctx.store.getPledgeStatus('p1')).toBe('warning');
      expect((await statusEvents()).map((e) => e.data)).toMatchObject([{ previousStatus: 'ok', status: 'warning' }]);
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
