/** StateStore contract, ingest's half: prices, batches, tags and readers. */
import { describe, expect, it } from 'vitest';
import type { TagState } from '@pledgewatch/common';
import type { StoreContext } from './state-contract.ts';
import { batch, byEpc, epc, price, reader, state, tag } from './fixtures.ts';

export function describeStateLiveContract(ctx: StoreContext): void {
  describe('prices', () => {
    it('keeps the newest price per commodity', async () => {
      expect(await ctx.store.getPrice('wheat')).toBeNull();
      expect(await ctx.store.putPrice(price('wheat', 200, 1_000))).toBe(true);
      expect(await ctx.store.putPrice(price('corn', 150, 0))).toBe(true);
      expect(await ctx.store.putPrice(price('wheat', 205, 2_000))).toBe(true);
      expect(await ctx.store.getPrice('wheat')).toEqual(price('wheat', 205, 2_000));
      expect(await ctx.store.getPrice('corn')).toEqual(price('corn', 150, 0));
    });

    it('refuses an older or equal-time price and keeps the newer one', async () => {
      await ctx.store.putPrice(price('wheat', 205, 2_000));
      expect(await ctx.store.putPrice(price('wheat', 190, 1_000))).toBe(false);
      expect(await ctx.store.putPrice(price('wheat', 180, 2_000))).toBe(false);
      expect(await ctx.store.getPrice('wheat')).toEqual(price('wheat', 205, 2_000));
    });
  });

  describe('batches, tags and readers', () => {
    it('logs a batch once per (gateway, seq)', async () => {
      expect(await ctx.store.commitBatch(batch('gw-1', 7, 'first'))).toBe(true);
      expect(await ctx.store.commitBatch(batch('gw-1', 7, 'replay'))).toBe(false);
      // The same seq from another gateway is another batch.
      expect(await ctx.store.commitBatch(batch('gw-2', 7))).toBe(true);
      expect(await ctx.store.commitBatch(batch('gw-1', 8))).toBe(true);
      const pending = await ctx.store.pendingBatches();
      expect(pending.map((b) => [b.gatewayId, b.seq, b.payload.toString()])).toEqual([
        ['gw-1', 7, 'first'],
        ['gw-2', 7, '{"seq":7}'],
        ['gw-1', 8, '{"seq":8}'],
      ]);
    });

    it('logs a group of batches in one go, refusing those applied before or twice in the group', async () => {
      const entry = (b: ReturnType<typeof batch>) => ({ batch: b, alerts: [], statuses: [] });
      expect(await ctx.store.commitBatch(batch('gw-1', 1))).toBe(true);
      expect([await ctx.store.isApplied('gw-1', 1), await ctx.store.isApplied('gw-1', 2)]).toEqual([true, false]);
      const fresh = await ctx.store.commitBatches([entry(batch('gw-1', 2)), entry(batch('gw-1', 1, 'replay')), entry(batch('gw-2', 2)), entry(batch('gw-1', 2, 'twice'))]);
      expect(fresh).toEqual([true, false, true, false]);
      expect((await ctx.store.pendingBatches()).map((b) => [b.gatewayId, b.seq, b.payload.toString()])).toEqual([
        ['gw-1', 1, '{"seq":1}'],
        ['gw-1', 2, '{"seq":2}'],
        ['gw-2', 2, '{"seq":2}'],
      ]);
      expect(await ctx.store.isApplied('gw-1', 2)).toBe(true);
    });

    it('logs nothing of a group that fails', async () => {
      const broken = { ...batch('gw-1', 2), appliedAt: null as unknown as string }; // what a NOT NULL column refuses
      await expect(ctx.store.commitBatches([{ batch: batch('gw-1', 1), alerts: [], statuses: [] }, { batch: broken, alerts: [], statuses: [] }])).rejects.toThrow();
      expect(await ctx.store.pendingBatches()).toEqual([]);
      expect(await ctx.store.isApplied('gw-1', 1)).toBe(false);
    });

    it('checkpoints state and retires exactly the batches it includes', async () => {
      const b1 = batch('gw-1', 1);
      const b2 = batch('gw-1', 2);
      await ctx.store.commitBatch(b1);
      await ctx.store.commitBatch(b2);
      await ctx.store.checkpoint(state([tag(epc(1))], [reader('gw-1', 'r1', true)], [b1]));
      expect(await ctx.store.listTags()).toEqual([tag(epc(1))]);
      expect((await ctx.store.pendingBatches()).map((b) => b.seq)).toEqual([2]);
      // A retired batch stays applied: its replay is still refused.
      expect(await ctx.store.commitBatch(batch('gw-1', 1))).toBe(false);
    });

    it('applies nothing of a checkpoint that fails, so it can be retried', async () => {
      const b1 = batch('gw-1', 1);
      await ctx.store.commitBatch(b1);
      const broken = tag(epc(2), { zone: null as unknown as string }); // what a NOT NULL column refuses
      await expect(ctx.store.checkpoint(state([tag(epc(1)), broken], [], [b1]))).rejects.toThrow();
      expect(await ctx.store.listTags()).toEqual([]);
      expect(await ctx.store.pendingBatches()).toHaveLength(1);
      await ctx.store.checkpoint(state([tag(epc(1))], [], [b1]));
      expect(await ctx.store.listTags()).toEqual([tag(epc(1))]);
      expect(await ctx.store.pendingBatches()).toEqual([]);
    });

    it('upserts tag and reader state', async () => {
      await ctx.store.checkpoint(state([tag(epc(1)), tag(epc(2))], [reader('gw-1', 'r1', true)]));
      const departed = tag(epc(1), { present: false, lastSeenAt: '2026-03-01T08:00:00.000Z', updatedAt: '2026-03-01T09:00:00.000Z' });
      const moved = tag(epc(2), { zone: 'z2', readerId: 'r2', gatewayId: 'gw-2', siteId: 'site-2' });
      await ctx.store.checkpoint(state([departed, moved], [reader('gw-1', 'r1', false, 9), reader('gw-1', 'r2', true)]));
      expect((await ctx.store.listTags()).sort(byEpc)).toEqual([departed, moved]);
      const readers = (await ctx.store.listReaders()).sort((a, b) => a.readerId.localeCompare(b.readerId));
      expect(readers).toEqual([reader('gw-1', 'r1', false, 9), reader('gw-1', 'r2', true)]);
    });

    it('gets many tags at once, skipping unknown EPCs', async () => {
      const tags: TagState[] = Array.from({ length: 2_000 }, (_, i) => tag(epc(i), { present: i % 3 !== 0 }));
      await ctx.store.checkpoint(state(tags));
      const wanted = [...tags.map((t) => t.epc), ...Array.from({ length: 500 }, (_, i) => epc(10_000 + i))];
      const got = await ctx.store.getTags(wanted);
      expect(got.sort(byEpc)).toEqual([...tags].sort(byEpc));
      expect(await ctx.store.getTags([epc(5), epc(99_999)])).toEqual([tags[5]]);
      expect(await ctx.store.getTags([])).toEqual([]);
    });
  });
}
