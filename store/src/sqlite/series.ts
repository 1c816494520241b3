/**
 * The embedded SeriesStore: points in a SQLite table, queried as the last value per time bucket
 * (what InfluxDB's `last()` with `GROUP BY time(step) fill(none)` gives).
 */
import { PwError } from '@pledgewatch/common';
import type { SeriesPoint, SeriesRow, SeriesRowsQuery, SeriesStore } from '../series.ts';
import { later, openDatabase, writeTx } from './db.ts';

export interface SqliteSeriesOptions {
  /** Database file (may be the state store's file: the tables do not collide); ':memory:' allowed. */
  path: string;
  /** Shared by every thread of the process that opens this file (see write-lock.ts); none: SQLite's busy timeout alone. */
  writeLock?: SharedArrayBuffer;
}

/** One field's value of the point chosen for a bucket (`i`: the field's index in the query). */
interface ValueRow {
  bucket: number;
  i: number;
  value: number | null;
}

interface QueryParams {
  measurement: string;
  tags: string;
  key: string;
  fields: string;
  from: number;
  to: number;
  step: number;
}

// A series matches when every wanted tag pair is among its tags (it may have more).
const MATCHED = `
  matched AS (
    SELECT s.id FROM series s
    WHERE s.measurement = @measurement
      AND NOT EXISTS (
        SELECT 1 FROM json_each(@tags) AS want
        WHERE NOT EXISTS (
          SELECT 1 FROM json_each(s.tags) AS have WHERE have.key = want.key AND have.value = want.value
        )
      )
  )`;

// The values of every wanted field at the chosen points (series_id, time): a point is what one series
// has at one time, as in InfluxDB; a field written twice there keeps its newest value.
const VALUES_AT_CHOSEN = `
  SELECT c.bucket, f.key AS i,
         (SELECT v.value FROM points v WHERE v.series_id = c.series_id AND v.field = f.value AND v.time = c.time
          ORDER BY v.rowid DESC LIMIT 1) AS value
  FROM chosen c, json_each(@fields) AS f
  ORDER BY c.bucket, f.key`;

// (time - from) / step is cast because better-sqlite3 binds JS numbers as REAL; time >= from, so
// truncation is the floor.
const BUCKETS_SQL = `
  WITH ${MATCHED},
  ranked AS (
    SELECT CAST((p.time - @from) / @step AS INTEGER) AS bucket, p.series_id, p.time,
           row_number() OVER (
             PARTITION BY CAST((p.time - @from) / @step AS INTEGER) ORDER BY p.time DESC, p.rowid DESC
           ) AS rank
    FROM matched m JOIN points p ON p.series_id = m.id
    WHERE p.field = @key AND p.time >= @from AND p.time < @to
  ),
  chosen AS (SELECT bucket, series_id, time FROM ranked WHERE rank = 1)
  ${VALUES_AT_CHOSEN}`;

// max() per series is an index seek on (series_id, field, time): the newest point costs no scan of
// the older ones. The one point's "bucket" is its own time.
const LATEST_SQL = `
  WITH ${MATCHED},
  newest AS (
    SELECT m.id AS series_id,
           (SELECT max(p.time) FROM points p WHERE p.series_id = m.id AND p.field = @key AND p.time < @to) AS time
    FROM matched m
  ),
  chosen AS (SELECT time AS bucket, series_id, time FROM newest WHERE time IS NOT NULL ORDER BY time DESC, series_id DESC LIMIT 1)
  ${VALUES_AT_CHOSEN}`;

export function openSqliteSeries(opts: SqliteSeriesOptions): SeriesStore {
  const db = openDatabase(opts.path, 'series', opts.writeLock);
  const seriesId = db.prepare<[string, string], number>('SELECT id FROM series WHERE measurement = ? AND tags = ?').pluck();
  const insertSeries = db
    .prepare<[string, string], number>('INSERT INTO series (measurement, tags) VALUES (?, ?) RETURNING id')
    .pluck();
  const insertPoint = db.prepare<[number, string, number, number]>(
    'INSERT INTO points (series_id, field, time, value) VALUES (?, ?, ?, ?)',
  );
  const buckets = db.prepare<[QueryParams], ValueRow>(BUCKETS_SQL);
  const latest = db.prepare<[Omit<QueryParams, 'from' | 'step'>], ValueRow>(LATEST_SQL);

  const writeAll = writeTx(db, (points: readonly SeriesPoint[]) => {
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
    write: (points) => later(() => (points.length === 0 ? undefined : writeAll(points))),
    query: (q) =>
      later(() => runQuery({ ...q, fields: [q.field] }).map((row) => ({ time: row.time, value: row.values[q.field] as number }))),
    queryRows: (q) => later(() => runQuery(q)),
    latestRow: (q) =>
      later(() => {
        const rows = latest.all({ ...selection(q), to: q.before });
        return toRows(rows, q.fields, (time) => time)[0] ?? null;
      }),
    flush: () => Promise.resolve(),
    close: () =>
      later(() => {
        db.close();
      }),
  };

  function runQuery(q: SeriesRowsQuery): SeriesRow[] {
    if (!(q.stepMs > 0)) throw new PwError('VALIDATION', `stepMs must be positive, got ${q.stepMs}`);
    if (!(q.to > q.from)) return [];
    const rows = buckets.all({ ...selection(q), from: q.from, to: q.to, step: q.stepMs });
    return toRows(rows, q.fields, (bucket) => q.from + bucket * q.stepMs);
  }
}

function selection(q: Pick<SeriesRowsQuery, 'measurement' | 'tags' | 'fields'>): Pick<QueryParams, 'measurement' | 'tags' | 'key' | 'fields'> {
  return { measurement: q.measurement, tags: JSON.stringify(q.tags), key: q.fields[0], fields: JSON.stringify(q.fields) };
}

/** Groups (bucket, field index, value) rows, ordered by bucket, into one row per bucket. */
function toRows(rows: readonly ValueRow[], fields: readonly string[], timeOf: (bucket: number) => number): SeriesRow[] {
  const out: SeriesRow[] = [];
  let current: SeriesRow | undefined;
  let bucket = Number.NaN;
  for (const row of rows) {
    if (current === undefined || row.bucket !== bucket) {
      bucket = row.bucket;
      current = { time: timeOf(row.bucket), values: {} };
      out.push(current);
    }
    current.values[fields[row.i] as string] = row.value;
  }
  return out;
}

/** The canonical identity of a tag set: the same pairs in any order give the same key. */
export function seriesKey(tags: Record<string, string>): string {
  const sorted = Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(sorted));
}
