/** StateStore contract, the audit trail: every change of a pledge appends a linked record to its chain, in its transaction. */
import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS, verifyAuditChain, type AlertChange, type AlertRecord, type FxRate, type StoredAuditRecord } from '@pledgewatch/common';
import type { StoreContext } from './state-contract.ts';
import { statusChange } from './state-contract-valuation.ts';
import { alert, at, batch, epc, pledge, price, release } from './fixtures.ts';

const open = (a: AlertRecord): AlertChange => ({ kind: 'open', alert: a });
const fx = (base: string, quote: string, ms: number): FxRate => ({ base, quote, rate: 0.92, at: at(ms), source: 'ecb' });

export function describeStateAuditContract(ctx: StoreContext): void {
  const chain = (pledgeId: string): Promise<StoredAuditRecord[]> => ctx.store.auditRecords(pledgeId, 0, 10_000);
  const types = async (pledgeId: string) => (await chain(pledgeId)).map((r) => r.type);
  /** The chain as stored checks out against its head. */
  const intact = async (pledgeId: string) => verifyAuditChain(pledgeId, await chain(pledgeId), await ctx.store.getAuditHead(pledgeId));

  describe('audit trail', () => {
    it('records each kind of change in its pledge’s chain, in order, each record linked to the one before', async () => {
      const p1 = pledge({ id: 'p1', epcs: [epc(1), epc(2)] });
      await ctx.store.createPledge(p1);
      await ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(3)], commodity: 'copper' }));
      await ctx.store.createPledge(pledge({ id: 'p3', epcs: [epc(4)], commodity: 'copper', loan: { outstanding: 5, currency: 'USD' } }));
      // Wheat is priced in USD, copper in EUR: an EUR/USD rate values p1 (EUR loan) and p3 (USD loan),
      // not p2 (EUR price, EUR loan); a GBP/EUR one values nothing.
      const wheat = { ...price('wheat', 250, 1_000), currency: 'USD' };
      await ctx.store.putPrice(wheat);
      await ctx.store.putPrice(price('copper', 9_000, 1_000));
      await ctx.store.putFxRate(fx('EUR', 'USD', 1_500));
      // The same rate again, newer: nothing is valued differently, so nothing is recorded.
      expect(await ctx.store.putFxRate(fx('EUR', 'USD', 1_600))).toBe(true);
      await ctx.store.putFxRate(fx('GBP', 'EUR', 1_500));
      await ctx.store.updatePledgeLoan('bank-a', 'p1', 90_000, at(2_000));
      await ctx.store.createRelease(release({ id: 'r1', pledgeId: 'p1', epcs: [epc(2).toLowerCase()], createdAt: at(3_000) }));
      const a1 = alert({ id: 'a1', pledgeId: 'p1', updatedAt: at(4_000) });
      await ctx.store.applyAlertChanges([open(a1)]);
      await ctx.store.applyAlertChanges([{ kind: 'update', alert: { ...a1, severity: 'critical', updatedAt: at(5_000) }, notify: true }]);
      // A silent refresh is no change a lender hears about, and no record either.
      await ctx.store.applyAlertChanges([{ kind: 'update', alert: { ...a1, lastSeenAt: at(5_500), updatedAt: at(5_500) }, notify: false }]);
      await ctx.store.acknowledgeAlert('bank-a', 'a1', at(6_000));
      await ctx.store.resolveAlert('bank-a', 'a1', at(7_000));
      await ctx.store.applyAlertChanges([], [statusChange('p1', 'margin_call', 8_000)]);

      expect(await types('p1')).toEqual([
        'pledge.registered',
        'price.applied',
        'fx.applied',
        'loan.changed',
        'release.recorded',
        'alert.opened',
        'alert.updated',
        'alert.updated',
        'alert.resolved',
        'pledge.status_changed',
      ]);
      const records = await chain('p1');
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(records[0]?.prevHash).toBe(AUDIT_GENESIS);
      records.slice(1).forEach((r, i) => expect(r.prevHash).toBe(records[i]?.hash));
      expect(await ctx.store.getAuditHead('p1')).toEqual({ seq: 10, hash: records[9]?.hash });
      expect(await intact('p1')).toEqual([]);

      const data = records.map((r) => JSON.parse(r.data) as Record<string, unknown>);
      expect(data[0]).toEqual(p1);
      expect(data[1]).toEqual(wheat);
      expect(data[2]).toEqual(fx('EUR', 'USD', 1_500));
      expect(data[3]).toEqual({ from: 100_000, to: 90_000, currency: 'EUR' });
      expect(data[4]).toMatchObject({ id: 'r1', epcs: [epc(2)] });
      expect(data.slice(5, 9).map((d) => [d.status, d.severity])).toEqual([
        ['open', 'warning'],
        ['open', 'critical'],
        ['acknowledged', 'critical'],
        ['resolved', 'critical'],
      ]);
      expect(data[9]).toMatchObject({ previousStatus: 'ok', status: 'margin_call' });
      expect(records.map((r) => r.at)).toEqual([at(0), at(1_000), at(1_500), at(2_000), at(3_000), at(4_000), at(5_000), at(6_000), at(7_000), at(8_000)]);

      expect(await types('p2')).toEqual(['pledge.registered', 'price.applied']);
      expect(await types('p3')).toEqual(['pledge.registered', 'price.applied', 'fx.applied']);
      expect(await intact('p3')).toEqual([]);
    });

    it('ties every outbox event to a record of its pledge’s chain', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      await ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(2)] }));
      await ctx.store.commitBatch(batch('gw-1', 1), [open(alert({ id: 'a1', pledgeId: 'p1' })), open(alert({ id: 'a2', pledgeId: 'p2', type: 'DAMAGE' }))], [
        statusChange('p2', 'warning', 1_000),
      ]);
      await ctx.store.resolveAlert('bank-a', 'a2', at(2_000));
      const events = await ctx.store.eventsAfter(0, 100);
      expect(events).toHaveLength(4);
      for (const e of events) {
        const records = (await chain(e.pledgeId)).filter((r) => (JSON.parse(r.data) as { eventId?: string }).eventId === e.id);
        expect(records.map((r) => [r.type, r.at]), e.id).toEqual([[e.type, e.createdAt]]);
        expect(JSON.parse(records[0]?.data ?? '{}')).toEqual({ eventId: e.id, ...e.data });
      }
    });

    it('records nothing for a change that is refused or rolled back', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(1)] }));
      await expect(ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(2), epc(1)] }))).rejects.toMatchObject({ code: 'EPC_ALREADY_PLEDGED' });
      await expect(ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(3)] }))).rejects.toMatchObject({ code: 'PLEDGE_EXISTS' });
      expect(await ctx.store.getAuditHead('p2')).toBeNull();
      await ctx.store.putPrice(price('wheat', 210, 2_000));
      expect(await ctx.store.putPrice(price('wheat', 200, 1_000))).toBe(false);
      // The same price again, newer: fresher, but no pledge is valued differently.
      expect(await ctx.store.putPrice(price('wheat', 210, 3_000))).toBe(true);
      expect(await ctx.store.updatePledgeLoan('bank-b', 'p1', 1, at(3_000))).toBeNull();
      await expect(ctx.store.createRelease(release({ id: 'r1', pledgeId: 'p1', tenant: 'bank-b' }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // An alert change that fails rolls back its batch, its event and its audit record together.
      const broken = alert({ id: 'a1', pledgeId: 'p1', updatedAt: 'not a time' });
      await expect(ctx.store.commitBatch(batch('gw-1', 1), [open(broken)])).rejects.toThrow();
      expect(await types('p1')).toEqual(['pledge.registered', 'price.applied']);
      expect(await ctx.store.listAuditedPledges()).toEqual(['p1']);
      expect(await intact('p1')).toEqual([]);
    });

    it('records a new price in the chain of every pledge of its commodity', async () => {
      const ids = Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`);
      for (const [i, id] of ids.entries()) await ctx.store.createPledge(pledge({ id, epcs: [epc(10 + i)], commodity: i % 5 === 0 ? 'barley' : 'wheat' }));
      await ctx.store.putPrice(price('wheat', 210, 1_000));
      await ctx.store.putPrice(price('wheat', 215, 2_000));
      for (const [i, id] of ids.entries()) {
        expect(await types(id), id).toEqual(i % 5 === 0 ? ['pledge.registered'] : ['pledge.registered', 'price.applied', 'price.applied']);
        expect(await intact(id), id).toEqual([]);
      }
      expect(await ctx.store.listAuditedPledges()).toEqual(ids);
    });

    it('pages through a chain after a seq', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      for (let n = 1; n <= 6; n++) await ctx.store.updatePledgeLoan('bank-a', 'p1', n, at(n * 1_000));
      expect((await ctx.store.auditRecords('p1', 2, 3)).map((r) => r.seq)).toEqual([3, 4, 5]);
      expect((await ctx.store.auditRecords('p1', 5, 3)).map((r) => r.seq)).toEqual([6, 7]);
      expect(await ctx.store.auditRecords('p1', 7, 3)).toEqual([]);
      expect(await ctx.store.auditRecords('nope', 0, 3)).toEqual([]);
      expect(await ctx.store.getAuditHead('nope')).toBeNull();
    });
  });
}
