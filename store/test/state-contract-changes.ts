/**
 * StateStore contract, change counters: each kind of change moves its own counter (and only the
 * changes a cache of it would see), whatever method wrote it.
 */
import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS, type ChangeKind, type ChangeVersions } from '../src/state.ts';
import type { StoreContext } from './state-contract.ts';
import { at, epc, gatewayAccount, gatewayStatus, pledge, price, reader, release, state, tag } from './fixtures.ts';
import { statusChange } from './state-contract-valuation.ts';

/** The kinds whose counter moved between two readings. */
const moved = (before: ChangeVersions, after: ChangeVersions): ChangeKind[] => CHANGE_KINDS.filter((k) => after[k] !== before[k]);

export function describeStateChangesContract(ctx: StoreContext): void {
  describe('change counters', () => {
    /** Runs `change` and answers which counters it moved. */
    async function changes(change: () => Promise<unknown>): Promise<ChangeKind[]> {
      const before = await ctx.store.changeVersions();
      await change();
      return moved(before, await ctx.store.changeVersions());
    }

    it('has a counter for every kind, each moved by the writes of that kind only', async () => {
      const start = await ctx.store.changeVersions();
      expect(Object.keys(start).sort()).toEqual([...CHANGE_KINDS].sort());
      for (const k of CHANGE_KINDS) expect(Number.isInteger(start[k])).toBe(true);

      expect(await changes(() => ctx.store.createApiKey({ id: 'k1', tenant: 'bank-a', hash: 'a'.repeat(64), createdAt: at(0) }))).toEqual(['api_keys']);
      expect(await changes(() => ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-1')))).toEqual(['readers']);
      expect(await changes(() => ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', true), at(1)))).toEqual(['readers']);
      // A heartbeat that changes nothing quantities depend on leaves caches alone.
      expect(await changes(() => ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', true, 30_000), at(30_000)))).toEqual([]);
      expect(await changes(() => ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', false, 60_000), at(60_000)))).toEqual(['readers']);

      expect(await changes(() => ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(1), epc(2)] })))).toEqual(['pledges']);
      expect(await changes(() => ctx.store.updatePledgeLoan('bank-a', 'p1', 5_000, at(2_000)))).toEqual(['pledges']);
      expect(await changes(() => ctx.store.updatePledgeLoan('bank-b', 'p1', 6_000, at(2_000)))).toEqual([]);
      expect(await changes(() => ctx.store.setPledgeStatus('p1', 'warning'))).toEqual(['statuses']);
      expect(await changes(() => ctx.store.setPledgeStatus('p1', 'warning'))).toEqual([]);
      // Ingest publishes statuses with its alert changes, through another method: counted all the same.
      expect(await changes(() => ctx.store.applyAlertChanges([], [statusChange('p1', 'margin_call', 3_000)]))).toEqual(['statuses']);

      expect(await changes(() => ctx.store.putPrice(price('wheat', 210, 1_000)))).toEqual(['prices']);
      expect(await changes(() => ctx.store.putFxRate({ base: 'USD', quote: 'EUR', rate: 0.9, at: at(1_000), source: 'ecb' }))).toEqual(['fx']);
      expect(await changes(() => ctx.store.createRelease(release({ id: 'rel-1', pledgeId: 'p1', epcs: [epc(2)] })))).toEqual(['releases']);
    });

    it('moves tags once per checkpoint that writes tags, readers when one connects or disconnects', async () => {
      expect(await changes(() => ctx.store.checkpoint(state([tag(epc(1)), tag(epc(2))])))).toEqual(['tags']);
      expect(await changes(() => ctx.store.checkpoint(state([tag(epc(1), { present: false })])))).toEqual(['tags']);
      expect(await changes(() => ctx.store.checkpoint(state([], [reader('gw-1', 'r1', true)])))).toEqual(['readers']);
      expect(await changes(() => ctx.store.checkpoint(state([], [reader('gw-1', 'r1', true, 5_000)])))).toEqual([]);
      expect(await changes(() => ctx.store.checkpoint(state([], [reader('gw-1', 'r1', false, 9_000)])))).toEqual(['readers']);
      expect(await changes(() => ctx.store.checkpoint(state([])))).toEqual([]);
    });

    it('leaves the counters alone when a write changes nothing', async () => {
      await ctx.store.putPrice(price('wheat', 210, 1_000));
      expect(await changes(() => ctx.store.putPrice(price('wheat', 200, 500)))).toEqual([]);
      const v1 = await ctx.store.changeVersions();
      expect(await changes(() => ctx.store.putPrice(price('wheat', 220, 2_000)))).toEqual(['prices']);
      expect((await ctx.store.changeVersions()).prices).toBeGreaterThan(v1.prices);
    });
  });
}
