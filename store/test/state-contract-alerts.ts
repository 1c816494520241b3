/** StateStore contract, the alerts half: one unresolved alert per condition, the event outbox, releases. */
import { describe, expect, it } from 'vitest';
import type { AlertChange, AlertRecord } from '@pledgewatch/common';
import type { StoreContext } from './state-contract.ts';
import { alert, at, batch, epc, pledge, release } from './fixtures.ts';

const open = (a: AlertRecord): AlertChange => ({ kind: 'open', alert: a });
const update = (a: AlertRecord, notify = true): AlertChange => ({ kind: 'update', alert: a, notify });
const resolve = (a: AlertRecord): AlertChange => ({ kind: 'resolve', alert: a });

export function describeStateAlertsContract(ctx: StoreContext): void {
  const events = async () => (await ctx.store.eventsAfter(0, 1000)).map((e) => [e.type, e.alertId, e.data.status]);

  describe('alerts', () => {
    it('opens, updates and resolves an alert, recording one event per change', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      const a = alert({ id: 'a1', pledgeId: 'p1' });
      await ctx.store.applyAlertChanges([open(a)]);
      expect(await ctx.store.getAlert('bank-a', 'a1')).toEqual(a);
      const worse = { ...a, severity: 'critical' as const, occurrences: 2, summary: 'worse', updatedAt: at(60_000), lastSeenAt: at(60_000) };
      await ctx.store.applyAlertChanges([update(worse)]);
      // A silent update keeps updatedAt: nothing a lender needs to hear about changed.
      const seen = { ...worse, lastSeenAt: at(120_000), updatedAt: at(120_000) };
      await ctx.store.applyAlertChanges([update(seen, false)]);
      expect(await ctx.store.getAlert('bank-a', 'a1')).toEqual({ ...worse, lastSeenAt: at(120_000) });
      await ctx.store.applyAlertChanges([resolve({ ...seen, resolvedAt: at(300_000), updatedAt: at(300_000) })]);
      expect(await ctx.store.getAlert('bank-a', 'a1')).toMatchObject({ status: 'resolved', resolvedAt: at(300_000), resolvedBy: 'rule' });
      expect(await events()).toEqual([
        ['alert.opened', 'a1', 'open'],
        ['alert.updated', 'a1', 'open'],
        ['alert.resolved', 'a1', 'resolved'],
      ]);
      expect(await ctx.store.listActiveAlerts()).toEqual([]);
    });

    it('keeps one unresolved alert per (pledge, type, subject): a second open merges into the first', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      await ctx.store.applyAlertChanges([open(alert({ id: 'a1', pledgeId: 'p1' }))]);
      await ctx.store.applyAlertChanges([open(alert({ id: 'a2', pledgeId: 'p1', severity: 'critical', updatedAt: at(5_000) }))]);
      // Two opens racing in one transaction (a replayed batch) merge the same way.
      await ctx.store.applyAlertChanges([open(alert({ id: 'a3', pledgeId: 'p1', severity: 'info' })), open(alert({ id: 'a4', pledgeId: 'p1' }))]);
      const active = await ctx.store.listActiveAlerts();
      expect(active.map((a) => [a.id, a.severity, a.occurrences])).toEqual([['a1', 'critical', 4]]);
      expect(await ctx.store.getAlert('bank-a', 'a2')).toBeNull();
      expect((await events()).map(([type]) => type)).toEqual(['alert.opened', 'alert.updated', 'alert.updated', 'alert.updated']);
      // Another subject or type is another condition.
      await ctx.store.applyAlertChanges([open(alert({ id: 'b1', pledgeId: 'p1', subject: 'zone:A2' })), open(alert({ id: 'c1', pledgeId: 'p1', type: 'DAMAGE' }))]);
      expect((await ctx.store.listActiveAlerts()).map((a) => a.id).sort()).toEqual(['a1', 'b1', 'c1']);
      expect((await ctx.store.listActiveAlerts(['DAMAGE'])).map((a) => a.id)).toEqual(['c1']);
    });

    it('opens a new alert for a condition whose last alert is resolved', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      const a1 = alert({ id: 'a1', pledgeId: 'p1' });
      await ctx.store.applyAlertChanges([open(a1), resolve({ ...a1, resolvedAt: at(1_000), updatedAt: at(1_000) })]);
      await ctx.store.applyAlertChanges([open(alert({ id: 'a2', pledgeId: 'p1', openedAt: at(2_000), updatedAt: at(2_000) }))]);
      expect((await ctx.store.listActiveAlerts()).map((a) => a.id)).toEqual(['a2']);
      expect((await ctx.store.getAlert('bank-a', 'a1'))?.status).toBe('resolved');
    });

    it('ignores an update or resolve for a condition a person resolved meanwhile', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      const a = alert({ id: 'a1', pledgeId: 'p1' });
      await ctx.store.applyAlertChanges([open(a)]);
      await ctx.store.resolveAlert('bank-a', 'a1', at(10_000));
      await ctx.store.applyAlertChanges([update({ ...a, severity: 'critical', updatedAt: at(20_000) }), resolve({ ...a, updatedAt: at(30_000) })]);
      expect(await ctx.store.getAlert('bank-a', 'a1')).toMatchObject({ status: 'resolved', resolvedBy: 'api', severity: 'warning', resolvedAt: at(10_000) });
      expect((await events()).map(([type]) => type)).toEqual(['alert.opened', 'alert.resolved']);
    });

    it('commits alert changes with the batch that caused them, and not for a replayed batch', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      expect(await ctx.store.commitBatch(batch('gw-1', 1), [open(alert({ id: 'a1', pledgeId: 'p1' }))])).toBe(true);
      expect(await ctx.store.commitBatch(batch('gw-1', 1), [open(alert({ id: 'a2', pledgeId: 'p1' }))])).toBe(false);
      expect((await ctx.store.listActiveAlerts()).map((a) => [a.id, a.occurrences])).toEqual([['a1', 1]]);
      expect(await events()).toEqual([['alert.opened', 'a1', 'open']]);
      // A failing alert write takes its batch down with it: neither is kept, so the batch can come again.
      const broken = alert({ id: 'a3', pledgeId: 'p1', subject: 'other', updatedAt: 'not a time' });
      await expect(ctx.store.commitBatch(batch('gw-1', 2), [open(broken)])).rejects.toThrow();
      expect((await ctx.store.pendingBatches()).map((b) => b.seq)).toEqual([1]);
      expect(await ctx.store.commitBatch(batch('gw-1', 2))).toBe(true);
    });

    it('lets a person acknowledge and resolve, per tenant', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      await ctx.store.applyAlertChanges([open(alert({ id: 'a1', pledgeId: 'p1' }))]);
      expect(await ctx.store.acknowledgeAlert('bank-b', 'a1', at(1_000))).toBeNull();
      expect(await ctx.store.getAlert('bank-b', 'a1')).toBeNull();
      const acked = await ctx.store.acknowledgeAlert('bank-a', 'a1', at(1_000));
      expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedAt: at(1_000), updatedAt: at(1_000) });
      expect(await ctx.store.acknowledgeAlert('bank-a', 'a1', at(2_000))).toEqual(acked);
      // Rule updates keep the acknowledgement.
      await ctx.store.applyAlertChanges([update(alert({ id: 'x', pledgeId: 'p1', severity: 'critical', updatedAt: at(3_000) }))]);
      expect(await ctx.store.getAlert('bank-a', 'a1')).toMatchObject({ status: 'acknowledged', severity: 'critical' });
      const resolved = await ctx.store.resolveAlert('bank-a', 'a1', at(4_000));
      expect(resolved).toMatchObject({ status: 'resolved', resolvedAt: at(4_000), resolvedBy: 'api' });
      expect(await ctx.store.resolveAlert('bank-a', 'a1', at(5_000))).toEqual(resolved);
      await expect(ctx.store.acknowledgeAlert('bank-a', 'a1', at(6_000))).rejects.toMatchObject({ code: 'ALERT_RESOLVED' });
      expect((await events()).map(([type]) => type)).toEqual(['alert.opened', 'alert.updated', 'alert.updated', 'alert.resolved']);
    });

    it('lists a tenant’s alerts by status, pledge, type and change time, newest change first', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(1)] }));
      await ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(2)] }));
      await ctx.store.createPledge(pledge({ id: 'b1', tenant: 'bank-b', epcs: [epc(3)] }));
      await ctx.store.applyAlertChanges([
        open(alert({ id: 'a1', pledgeId: 'p1', openedAt: at(1_000), updatedAt: at(1_000) })),
        open(alert({ id: 'a2', pledgeId: 'p2', type: 'DAMAGE', openedAt: at(2_000), updatedAt: at(2_000) })),
        open(alert({ id: 'a3', pledgeId: 'p1', subject: 'zone:A2', openedAt: at(3_000), updatedAt: at(3_000) })),
        open(alert({ id: 'b', pledgeId: 'b1', tenant: 'bank-b' })),
      ]);
      await ctx.store.resolveAlert('bank-a', 'a1', at(4_000));
      const list = async (f: Parameters<typeof ctx.store.listAlerts>[1]) => (await ctx.store.listAlerts('bank-a', f)).map((a) => a.id);
      expect(await list({})).toEqual(['a1', 'a3', 'a2']);
      expect(await list({ statuses: ['open'] })).toEqual(['a3', 'a2']);
      expect(await list({ statuses: ['resolved'] })).toEqual(['a1']);
      expect(await list({ pledgeId: 'p1' })).toEqual(['a1', 'a3']);
      expect(await list({ type: 'DAMAGE' })).toEqual(['a2']);
      expect(await list({ since: at(2_500) })).toEqual(['a1', 'a3']);
      expect(await list({ limit: 1 })).toEqual(['a1']);
      expect(await list({ pledgeId: 'b1' })).toEqual([]);
    });
  });

  describe('event outbox', () => {
    it('hands out events in commit order after a sequence number, with stable ids', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      expect(await ctx.store.lastEventSeq()).toBe(0);
      const a = alert({ id: 'a1', pledgeId: 'p1' });
      await ctx.store.applyAlertChanges([open(a), update({ ...a, severity: 'critical', updatedAt: at(1_000) })]);
      await ctx.store.applyAlertChanges([resolve({ ...a, updatedAt: at(2_000) })]);
      const all = await ctx.store.eventsAfter(0, 10);
      expect(await ctx.store.lastEventSeq()).toBe(all[2]?.seq);
      expect(all.map((e) => e.type)).toEqual(['alert.opened', 'alert.updated', 'alert.resolved']);
      expect(all.map((e) => e.createdAt)).toEqual([a.updatedAt, at(1_000), at(2_000)]);
      expect(new Set(all.map((e) => e.id)).size).toBe(3);
      for (const e of all) expect(e).toMatchObject({ tenant: 'bank-a', pledgeId: 'p1', alertId: 'a1' });
      // data is the public alert: no tenant, no internal flags.
      expect(all[1]?.data).toMatchObject({ id: 'a1', severity: 'critical', status: 'open' });
      expect(all[1]?.data).not.toHaveProperty('tenant');
      expect(all[1]?.data).not.toHaveProperty('latched');
      const first = all[0]?.seq ?? 0;
      expect((await ctx.store.eventsAfter(first, 10)).map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
      expect((await ctx.store.eventsAfter(first, 1)).map((e) => e.id)).toEqual([all[1]?.id]);
      expect(await ctx.store.eventsAfter(all[2]?.seq ?? 0, 10)).toEqual([]);
      expect(await ctx.store.eventsAfter(0, 10)).toEqual(all);
    });
  });

  describe('exclusivePledge', () => {
    it('runs work for one pledge one at a time, other pledges alongside, and frees the pledge after a failure', async () => {
      const log: string[] = [];
      const step = (name: string, ms: number) => async () => {
        log.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}-`);
        return name;
      };
      const failing = ctx.store.exclusivePledge('p1', async () => {
        await step('f', 10)();
        throw new Error('check failed');
      });
      const results = await Promise.allSettled([
        failing,
        ctx.store.exclusivePledge('p1', step('a', 30)),
        ctx.store.exclusivePledge('p1', step('b', 5)),
        ctx.store.exclusivePledge('p2', step('x', 5)),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['check failed', 'a', 'b', 'x']);
      const p1 = log.filter((e) => !e.startsWith('x'));
      expect(p1).toEqual(['f+', 'f-', 'a+', 'a-', 'b+', 'b-']);
      // p2's work did not wait for p1's
      expect(log.indexOf('x-')).toBeLessThan(log.indexOf('a-'));
    });
  });

  describe('releases', () => {
    it('records releases of a tenant’s own pledges and lists them', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(1), epc(2)] }));
      const r1 = release({ id: 'r1', pledgeId: 'p1', epcs: [epc(1)], createdAt: at(1_000) });
      const r2 = release({ id: 'r2', pledgeId: 'p1', epcs: [], quantity: 0.5, createdAt: at(2_000) });
      await ctx.store.createRelease(r2);
      await ctx.store.createRelease(r1);
      expect(await ctx.store.listReleases('bank-a', 'p1')).toEqual([r1, r2]);
      expect(await ctx.store.getRelease('bank-a', 'r2')).toEqual(r2);
      expect(await ctx.store.getRelease('bank-b', 'r2')).toBeNull();
      expect(await ctx.store.listReleases('bank-b', 'p1')).toEqual([]);
      expect(await ctx.store.listReleasesSince(at(1_000))).toEqual([r2]);
      expect(await ctx.store.listReleasesSince(at(0))).toEqual([r1, r2]);
    });

    it('refuses a release of another tenant’s or an unknown pledge', async () => {
      await ctx.store.createPledge(pledge({ id: 'p1' }));
      await expect(ctx.store.createRelease(release({ id: 'r1', pledgeId: 'p1', tenant: 'bank-b' }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(ctx.store.createRelease(release({ id: 'r2', pledgeId: 'nope' }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await ctx.store.listReleasesSince(at(-1))).toEqual([]);
    });
  });
}
