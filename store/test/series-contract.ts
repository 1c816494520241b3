/**
 * The behaviour every SeriesStore adapter owes its callers; each test gets a fresh, empty store.
 * Buckets start at `from` and are `stepMs` wide; each gives the newest value in it, empty ones none.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SeriesPoint, SeriesQuery, SeriesStore } from '../src/series.ts';
import { T0 } from './fixtures.ts';

export interface SeriesContractOptions {
  /** Opens the data of the store the last `open()` returned, after the suite has closed it. */
  reopen?: () => Promise<SeriesStore>;
}

const MIN = 60_000;

const point = (time: number, fields: Record<string, number>, tags: Record<string, string> = { pledge: 'p1' }): SeriesPoint => ({
  measurement: 'pledge_value',
  tags,
  fields,
  time,
});

const query = (q: Partial<SeriesQuery> = {}): SeriesQuery => ({
  measurement: 'pledge_value',
  field: 'ltv',
  tags: { pledge: 'p1' },
  from: T0,
  to: T0 + 10 * MIN,
  stepMs: MIN,
  ...q,
});

export function describeSeriesStoreContract(
  name: string,
  open: () => Promise<SeriesStore>,
  options: SeriesContractOptions = {},
): void {
  describe(`SeriesStore contract: ${name}`, () => {
    let store: SeriesStore;
    let closed = false;
    beforeEach(async () => {
      store = await open();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });

    it('returns nothing from an empty store or an empty range', async () => {
      expect(store.kind).toMatch(/\S/);
      expect(await store.query(query())).toEqual([]);
      await store.write([point(T0 + 1_000, { ltv: 0.5 })]);
      await store.flush();
      expect(await store.query(query({ from: T0 + MIN, to: T0 + 2 * MIN }))).toEqual([]);
      expect(await store.query(query({ to: T0 }))).toEqual([]);
      expect(await store.query(query({ from: T0 + MIN, to: T0 }))).toEqual([]);
      await store.write([]);
    });

    it('gives the last value of each bucket at the bucket start, skipping empty buckets', async () => {
      // Written out of order: "last" is by time, not by arrival.
      await store.write([
        point(T0 + 30_000, { ltv: 0.52 }),
        point(T0 + 5_000, { ltv: 0.5 }),
        point(T0 + 2 * MIN + 59_999, { ltv: 0.61 }),
        point(T0 + 2 * MIN, { ltv: 0.6 }),
        point(T0 + 5 * MIN, { ltv: 0.7 }),
      ]);
      await store.flush();
      expect(await store.query(query())).toEqual([
        { time: T0, value: 0.52 },
        { time: T0 + 2 * MIN, value: 0.61 },
        { time: T0 + 5 * MIN, value: 0.7 },
      ]);
      expect(await store.query(query({ stepMs: 10 * MIN }))).toEqual([{ time: T0, value: 0.7 }]);
    });

    it('includes `from`, excludes `to`, and aligns buckets to `from`', async () => {
      await store.write([point(T0, { ltv: 0.1 }), point(T0 + 55_000, { ltv: 0.2 }), point(T0 + 65_000, { ltv: 0.3 }), point(T0 + 3 * MIN, { ltv: 0.4 })]);
      await store.flush();
      expect(await store.query(query({ to: T0 + 3 * MIN }))).toEqual([
        { time: T0, value: 0.2 },
        { time: T0 + MIN, value: 0.3 },
      ]);
      // Shifted by 10 s, the 55 s and 65 s points share a bucket.
      expect(await store.query(query({ from: T0 + 10_000, to: T0 + 3 * MIN }))).toEqual([
        { time: T0 + 10_000, value: 0.3 },
      ]);
    });

    it('selects by measurement, field and tags; a tag filter matches series that include its pairs', async () => {
      await store.write([
        point(T0 + 1_000, { ltv: 0.5, quantity: 40 }, { pledge: 'p1', site: 's1' }),
        point(T0 + 2_000, { ltv: 0.9 }, { site: 's1', pledge: 'p2' }),
        { measurement: 'reading', tags: { pledge: 'p1' }, fields: { ltv: 99 }, time: T0 + 3_000 },
      ]);
      await store.flush();
      expect(await store.query(query())).toEqual([{ time: T0, value: 0.5 }]);
      expect(await store.query(query({ field: 'quantity' }))).toEqual([{ time: T0, value: 40 }]);
      expect(await store.query(query({ tags: { site: 's1', pledge: 'p2' } }))).toEqual([{ time: T0, value: 0.9 }]);
      expect(await store.query(query({ tags: { pledge: 'p2', site: 's1' } }))).toEqual([{ time: T0, value: 0.9 }]);
      expect(await store.query(query({ tags: { pledge: 'p1', site: 's2' } }))).toEqual([]);
      expect(await store.query(query({ tags: { pledge: 'p3' } }))).toEqual([]);
      expect(await store.query(query({ field: 'nope' }))).toEqual([]);
      // Several matching series: the newest value across them wins.
      expect(await store.query(query({ tags: { site: 's1' } }))).toEqual([{ time: T0, value: 0.9 }]);
      expect(await store.query(query({ tags: {} }))).toEqual([{ time: T0, value: 0.9 }]);
      expect(await store.query(query({ measurement: 'reading', tags: {} }))).toEqual([{ time: T0, value: 99 }]);
    });

    it('drops non-finite values, which no backend can store', async () => {
      await store.write([point(T0 + 1_000, { ltv: 0.4 }), point(T0 + 2_000, { ltv: Number.NaN, quantity: 3 })]);
      await store.write([point(T0 + 3_000, { ltv: Number.POSITIVE_INFINITY })]);
      await store.flush();
      expect(await store.query(query())).toEqual([{ time: T0, value: 0.4 }]);
      expect(await store.query(query({ field: 'quantity' }))).toEqual([{ time: T0, value: 3 }]);
    });

    it('keeps many points of a series', async () => {
      const points = Array.from({ length: 5_000 }, (_, i) => point(T0 + i * 1_000, { ltv: i / 10_000 }));
      await store.write(points);
      await store.flush();
      const samples = await store.query(query({ to: T0 + 5_000_000, stepMs: 10 * MIN }));
      expect(samples).toHaveLength(9);
      expect(samples[0]).toEqual({ time: T0, value: 0.0599 });
      expect(samples[8]).toEqual({ time: T0 + 80 * MIN, value: 0.4999 });
    });

    it('reads several fields per bucket from one point: the newest that has the first field', async () => {
      await store.write([
        point(T0 + 1_000, { marketValue: 100, eligibleValue: 85, ltv: 0.5 }),
        // Newest in the first bucket, and without an LTV: the row says null, not the older 0.5.
        point(T0 + 40_000, { marketValue: 90, eligibleValue: 0 }),
        // No marketValue: this point cannot be the row of its bucket.
        point(T0 + 50_000, { ltv: 0.9 }),
        point(T0 + 2 * MIN + 1, { marketValue: 120, eligibleValue: 102, ltv: 0.4 }),
        point(T0 + 2 * MIN + 2, { marketValue: 80, eligibleValue: 68, ltv: 0.6 }, { pledge: 'p2' }),
      ]);
      await store.flush();
      const fields = ['marketValue', 'eligibleValue', 'ltv'] as const;
      expect(await store.queryRows({ ...query(), fields })).toEqual([
        { time: T0, values: { marketValue: 90, eligibleValue: 0, ltv: null } },
        { time: T0 + 2 * MIN, values: { marketValue: 120, eligibleValue: 102, ltv: 0.4 } },
      ]);
      // Across matching series the newest point wins, whole.
      expect(await store.queryRows({ ...query({ tags: {}, from: T0 + MIN }), fields })).toEqual([
        { time: T0 + 2 * MIN, values: { marketValue: 80, eligibleValue: 68, ltv: 0.6 } },
      ]);
      expect(await store.queryRows({ ...query(), fields: ['ltv', 'marketValue'] })).toEqual([
        { time: T0, values: { ltv: 0.9, marketValue: null } },
        { time: T0 + 2 * MIN, values: { ltv: 0.4, marketValue: 120 } },
      ]);
      expect(await store.queryRows({ ...query({ to: T0 }), fields })).toEqual([]);
      expect(await store.queryRows({ ...query({ measurement: 'nope' }), fields })).toEqual([]);
    });

    it('finds the newest point before a time, at its own time', async () => {
      const latest = (before: number, tags: Record<string, string> = { pledge: 'p1' }) =>
        store.latestRow({ measurement: 'pledge_value', tags, fields: ['present', 'missing'], before });
      expect(await latest(T0 + MIN)).toBeNull();
      await store.write([
        point(T0 + 1_000, { present: 10, missing: 0 }),
        point(T0 + 9_000, { present: 7, missing: 3 }),
        point(T0 + 9_500, { missing: 4 }),
        point(T0 + 20_000, { present: 6 }, { pledge: 'p2' }),
      ]);
      await store.flush();
      expect(await latest(T0 + 1_000)).toBeNull();
      expect(await latest(T0 + 1_001)).toEqual({ time: T0 + 1_000, values: { present: 10, missing: 0 } });
      expect(await latest(T0 + 9_000)).toEqual({ time: T0 + 1_000, values: { present: 10, missing: 0 } });
      expect(await latest(T0 + MIN)).toEqual({ time: T0 + 9_000, values: { present: 7, missing: 3 } });
      expect(await latest(T0 + MIN, {})).toEqual({ time: T0 + 20_000, values: { present: 6, missing: null } });
      expect(await latest(T0 + MIN, { pledge: 'p3' })).toBeNull();
    });

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it('keeps points across close and reopen', async () => {
        await store.write([point(T0 + 1_000, { ltv: 0.5 })]);
        await store.close();
        closed = true;
        store = await reopen();
        closed = false;
        expect(await store.query(query())).toEqual([{ time: T0, value: 0.5 }]);
      });
    }
  });
}
