/** StateStore contract, what ingest records about how it runs. */
import { describe, expect, it } from 'vitest';
import type { StoreContext } from './state-contract.ts';

export function describeStateIngestContract(ctx: StoreContext): void {
  describe('ingest shards', () => {
    it('records the shard count and answers the one recorded before', async () => {
      expect(await ctx.store.recordIngestShards(2)).toBeNull();
      expect(await ctx.store.recordIngestShards(2)).toBe(2);
      expect(await ctx.store.recordIngestShards(4)).toBe(2);
      expect(await ctx.store.recordIngestShards(1)).toBe(4);
    });
  });
}
