/**
 * SeriesQuery → InfluxQL: `last()` per `GROUP BY time(step, offset)` bucket, with the offset that
 * makes the buckets start at `from`, and `fill(none)` to leave empty buckets out — the same answer
 * the SQLite adapter computes. Rows and the latest point the same way, with more fields.
 */
import { PwError } from '@pledgewatch/common';
import { escape } from 'influx';
import type { SeriesLatestQuery, SeriesQuery, SeriesRow, SeriesRowsQuery, SeriesSample } from '../series.ts';

export function buildQuery(q: SeriesQuery, retentionPolicy?: string): string {
  return buildRowsQuery({ ...q, fields: [q.field] }, retentionPolicy);
}

/**
 * `SELECT last(first field), other fields`: a selector with plain fields takes them from the point it
 * selected (null where that point has none), which is the row the port promises.
 */
export function buildRowsQuery(q: SeriesRowsQuery, retentionPolicy?: string): string {
  if (!Number.isInteger(q.stepMs) || q.stepMs <= 0) throw new PwError('VALIDATION', `stepMs must be a positive whole number of ms, got ${q.stepMs}`);
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new PwError('VALIDATION', `from and to must be epoch ms, got ${q.from} and ${q.to}`);
  // Points sit on whole milliseconds, so rounding the bounds up keeps [from, to) exact.
  const from = Math.ceil(q.from);
  const to = Math.ceil(q.to);
  const offset = ((from % q.stepMs) + q.stepMs) % q.stepMs;
  const where = [`time >= ${from}ms`, `time < ${to}ms`, ...tagFilter(q.tags)];
  return `${select(q, retentionPolicy)} WHERE ${where.join(' AND ')} GROUP BY time(${q.stepMs}ms, ${offset}ms) fill(none)`;
}

/** Without GROUP BY time, the selected point keeps its own time. */
export function buildLatestQuery(q: SeriesLatestQuery, retentionPolicy?: string): string {
  if (!Number.isFinite(q.before)) throw new PwError('VALIDATION', `before must be epoch ms, got ${q.before}`);
  return `${select(q, retentionPolicy)} WHERE ${[`time < ${Math.ceil(q.before)}ms`, ...tagFilter(q.tags)].join(' AND ')}`;
}

function select(q: { measurement: string; fields: readonly string[] }, retentionPolicy: string | undefined): string {
  const source = retentionPolicy === undefined ? escape.quoted(q.measurement) : `${escape.quoted(retentionPolicy)}.${escape.quoted(q.measurement)}`;
  const [key, ...rest] = q.fields.map((f) => escape.quoted(f));
  return `SELECT ${[`last(${key ?? '""'})`, ...rest].join(', ')} FROM ${source}`;
}

function tagFilter(tags: Record<string, string>): string[] {
  return Object.entries(tags).map(([key, value]) => `${escape.quoted(key)} = ${escape.stringLit(value)}`);
}

/** The JSON shape of InfluxDB's /query answer (v1 API), as far as this adapter reads it. */
export interface QueryResponse {
  error?: string;
  results?: { error?: string; series?: { values?: unknown[][] }[] }[];
}

export function parseSamples(body: QueryResponse): SeriesSample[] {
  return parseRows(body, ['value']).map((row) => ({ time: row.time, value: row.values.value as number }));
}

/** Rows of `time, last(first field), other fields…`, oldest first, values named by `fields`. */
export function parseRows(body: QueryResponse, fields: readonly string[]): SeriesRow[] {
  const result = body.results?.[0];
  const error = body.error ?? result?.error;
  if (error !== undefined) {
    // A database that was never written to has nothing to return.
    if (/database not found/i.test(error)) return [];
    throw new Error(`InfluxDB query failed: ${error}`);
  }
  const rows: SeriesRow[] = [];
  for (const series of result?.series ?? []) {
    for (const [time, key, ...rest] of series.values ?? []) {
      if (typeof time !== 'number' || typeof key !== 'number') continue;
      const values: Record<string, number | null> = {};
      fields.forEach((field, i) => {
        const value = i === 0 ? key : rest[i - 1];
        values[field] = typeof value === 'number' ? value : null;
      });
      rows.push({ time, values });
    }
  }
  return rows.sort((a, b) => a.time - b.time);
}
