/**
 * SeriesQuery → InfluxQL: `last()` per `GROUP BY time(step, offset)` bucket, with the offset that
 * makes the buckets start at `from`, and `fill(none)` to leave empty buckets out — the same answer
 * the SQLite adapter computes.
 */
import { PwError } from '@pledgewatch/common';
import { escape } from 'influx';
import type { SeriesQuery, SeriesSample } from '../series.ts';

export function buildQuery(q: SeriesQuery, retentionPolicy?: string): string {
  if (!Number.isInteger(q.stepMs) || q.stepMs <= 0) throw new PwError('VALIDATION', `stepMs must be a positive whole number of ms, got ${q.stepMs}`);
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to)) throw new PwError('VALIDATION', `from and to must be epoch ms, got ${q.from} and ${q.to}`);
  // Points sit on whole milliseconds, so rounding the bounds up keeps [from, to) exact.
  const from = Math.ceil(q.from);
  const to = Math.ceil(q.to);
  const offset = ((from % q.stepMs) + q.stepMs) % q.stepMs;
  const source = retentionPolicy === undefined ? escape.quoted(q.measurement) : `${escape.quoted(retentionPolicy)}.${escape.quoted(q.measurement)}`;
  const where = [`time >= ${from}ms`, `time < ${to}ms`];
  for (const [key, value] of Object.entries(q.tags)) where.push(`${escape.quoted(key)} = ${escape.stringLit(value)}`);
  return `SELECT last(${escape.quoted(q.field)}) FROM ${source} WHERE ${where.join(' AND ')} GROUP BY time(${q.stepMs}ms, ${offset}ms) fill(none)`;
}

/** The JSON shape of InfluxDB's /query answer (v1 API), as far as this adapter reads it. */
export interface QueryResponse {
  error?: string;
  results?: { error?: string; series?: { values?: unknown[][] }[] }[];
}

export function parseSamples(body: QueryResponse): SeriesSample[] {
  const result = body.results?.[0];
  const error = body.error ?? result?.error;
  if (error !== undefined) {
    // A database that was never written to has nothing to return.
    if (/database not found/i.test(error)) return [];
    throw new Error(`InfluxDB query failed: ${error}`);
  }
  const samples: SeriesSample[] = [];
  for (const series of result?.series ?? []) {
    for (const row of series.values ?? []) {
      const [time, value] = row;
      if (typeof time === 'number' && typeof value === 'number') samples.push({ time, value });
    }
  }
  return samples.sort((a, b) => a.time - b.time);
}
