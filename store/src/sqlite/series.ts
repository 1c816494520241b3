/**
 * The embedded SeriesStore: points in a SQLite table, queried as the last value per time bucket
 * (what InfluxDB's `last()` with `GROUP BY time(step) fill(none)` gives).
 */
import { PwError } from '@pledgewatch/common';
import type { SeriesPoint, SeriesQuery, SeriesSample, SeriesStore } from '../series.ts';
import { later, openDatabase } from './db.ts';

export interface SqliteSeriesOptions {
  /** Database file (may be the state store's file: the tables do not collide); ':memory:' allowed. */
  path: string;
}

interface BucketRow {
  bucket: number;
  value: number;
}

interface QueryParams {
  measurement: string;
  tags: string;
  field: string;
  from: number;
  to: number;
  step: number;
}

// A series matches when every wanted tag pair is among its tags (it may have more).
// (time - from) / step is cast because better-sqlite3 binds JS numbers as REAL; time >= from, so
// truncation is the floor.
const QUERY_SQL = `
  WITH matched AS (
    SELECT s.id FROM series s
    WHERE s.measurement = @measurement
      AND NOT EXISTS (
        SELECT 1 FROM json_each(@tags) AS want
        WHERE NOT EXISTS (
          SELECT 1 FROM json_each(s.tags) AS have WHERE have.key = want.key AND have.value = want.value
        )
      )
  ),
  ranked AS (
    SELECT CAST((p.time - @from) / @step AS INTEGER) AS bucket, p.value,
           row_number() OVER (
             PARTITION BY CAST((p.time - @from) / @step AS INTEGER) ORDER BY p.time DESC, p.rowid DESC
           ) AS rank
    FROM matched m JOIN points p ON p.series_id = m.id
    WHERE p.field = @field AND p.time >= @from AND p.time < @to
  )
  SELECT bucket, value FROM ranked WHERE rank = 1 ORDER BY bucket`;

export function openSqliteSeries(opts: SqliteSeriesOptions): SeriesStore {
  const db = openDatabase(opts.path, 'series');
  const seriesId = db.prepare<[string, string], number>('SELECT id FROM series WHERE measurement = ? AND tags = ?').pluck();
  const insertSeries = db
    .prepare<[string, string], number>('INSERT INTO series (measurement, tags) VALUES (?, ?) RETURNING id')
    .pluck();
  const insertPoint = db.prepare<[number, string, number, number]>(
    'INSERT INTO points (series_id, field, time, value) VALUES (?, ?, ?, ?)',
  );
  const buckets = db.prepare<[QueryParams], BucketRow>(QUERY_SQL);

  const writeAll = db.transaction((points: readonly SeriesPoint[]) => {
    // Per call, not per store: another process may add series to the same file meanwhile.
    const ids = new Map<string, number>();
    for (const point of points) {
      const key = seriesKey(point.tags);
      const cacheKey = `${point.measurement}\u0000${key}`;
      let id = ids.get(cacheKey);
      if (id === undefined) {
        id = seriesId.get(point.measurement, key) ?? insertSeries.get(point.measurement, key);
        if (id === undefined) throw new Error('INSERT … RETURNING id gave no row');
        ids.set(cacheKey, id);
      }
      for (const [field, value] of Object.entries(point.fields)) {
        // Neither SQLite (NaN becomes NULL) nor InfluxDB can store non-finite numbers.
        if (Number.isFinite(value)) insertPoint.run(id, field, point.time, value);
      }
    }
  });

  return {
    kind: 'sqlite',
    write: (points) => later(() => (points.length === 0 ? undefined : writeAll.immediate(points))),
    query: (q) => later(() => runQuery(q)),
    flush: () => Promise.resolve(),
    close: () =>
      later(() => {
        db.close();
      }),
  };

  function runQuery(q: SeriesQuery): SeriesSample[] {
    if (!(q.stepMs > 0)) throw new PwError('VALIDATION', `stepMs must be positive, got ${q.stepMs}`);
    if (!(q.to > q.from)) return [];
    const rows = buckets.all({
      measurement: q.measurement,
      tags: JSON.stringify(q.tags),
      field: q.field,
      from: q.from,
      to: q.to,
      step: q.stepMs,
    });
    return rows.map((row) => ({ time: q.from + row.bucket * q.stepMs, value: row.value }));
  }
}

/** The canonical identity of a tag set: the same pairs in any order give the same key. */
export function seriesKey(tags: Record<string, string>): string {
  const sorted = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}
