/**
 * A pledge's history as a chart wants it: its state sampled at from, from + step, … — at each time the
 * quantities and valuation last recorded at or before it. Ingest writes a point only when something
 * changed (at its checkpoints, ingest/src/context.ts and valuation/), so a time without a point of its
 * own carries the last one forward; the state at `from` comes from the newest point before the range.
 */
import type { Pledge, Quantities } from '@pledgewatch/common';
import type { SeriesRow, SeriesStore } from '@pledgewatch/store';
import { pointsIn, type HistoryRange } from './history-range.ts';

export const QUANTITY_MEASUREMENT = 'pledge_quantity';
export const VALUATION_MEASUREMENT = 'pledge_valuation';
/** The first field of each list is always written: it picks the point (see SeriesStore.queryRows). */
const QUANTITY_FIELDS = ['pledged', 'present', 'missing', 'relocated', 'damaged', 'unknown'] as const satisfies readonly (keyof Quantities)[];
const VALUATION_FIELDS = ['marketValue', 'eligibleValue', 'outstanding', 'headroom', 'ltv'] as const;

type ValuationField = (typeof VALUATION_FIELDS)[number];

export type HistoryPoint = {
  at: number;
  /** null until a quantity was recorded */
  quantity: Quantities | null;
} & Record<ValuationField, number | null>;

/**
 * The sampled points, from the first time anything was recorded: a time before either series has a
 * point is left out; one series known and the other not yet gives nulls for the other's fields.
 */
export async function loadHistory(series: SeriesStore, pledge: Pledge, range: HistoryRange, now: number): Promise<HistoryPoint[]> {
  const count = pointsIn(range.from, Math.min(range.to, now), range.stepMs);
  if (!(count > 0)) return [];
  const [quantities, valuations] = await Promise.all([
    sample(series, pledge.id, QUANTITY_MEASUREMENT, QUANTITY_FIELDS, range, count),
    sample(series, pledge.id, VALUATION_MEASUREMENT, VALUATION_FIELDS, range, count),
  ]);
  const points: HistoryPoint[] = [];
  for (let k = 0; k < count; k++) {
    const q = quantities[k];
    const v = valuations[k];
    if (q === undefined && v === undefined) continue;
    const valuation = (f: ValuationField) => v?.[f] ?? null;
    // Ingest writes all six quantities in every point.
    const quantity = (f: keyof Quantities) => q?.[f] ?? 0;
    points.push({
      at: range.from + k * range.stepMs,
      quantity:
        q === undefined
          ? null
          : { pledged: quantity('pledged'), present: quantity('present'), missing: quantity('missing'), relocated: quantity('relocated'), damaged: quantity('damaged'), unknown: quantity('unknown') },
      marketValue: valuation('marketValue'),
      eligibleValue: valuation('eligibleValue'),
      outstanding: valuation('outstanding'),
      headroom: valuation('headroom'),
      ltv: valuation('ltv'),
    });
  }
  return points;
}

/**
 * One measurement's values at each of `count` times from range.from: bucket k of the store's query
 * covers (t(k-1), t(k)] — it starts 1 ms after t(k-1) — so its newest point is the state at t(k).
 */
async function sample(
  series: SeriesStore,
  pledgeId: string,
  measurement: string,
  fields: readonly [string, ...string[]],
  range: HistoryRange,
  count: number,
): Promise<(SeriesRow['values'] | undefined)[]> {
  const tags = { pledgeId };
  const start = range.from + 1;
  const [before, rows] = await Promise.all([
    series.latestRow({ measurement, tags, fields, before: start }),
    count > 1
      ? series.queryRows({ measurement, tags, fields, from: start, to: range.from + (count - 1) * range.stepMs + 1, stepMs: range.stepMs })
      : Promise.resolve([]),
  ]);
  const byIndex = new Map(rows.map((row) => [Math.round((row.time - start) / range.stepMs) + 1, row.values]));
  const out: (SeriesRow['values'] | undefined)[] = [before?.values];
  for (let k = 1; k < count; k++) out.push(byIndex.get(k) ?? out[k - 1]);
  return out;
}
