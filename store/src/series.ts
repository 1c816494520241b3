/**
 * The time-series port. Adapters: SQLite table (embedded default), InfluxDB (production, later).
 * Tags are low-cardinality identifiers (pledge, gateway, sensor, zone) — never an EPC.
 */
export interface SeriesPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  /** epoch ms */
  time: number;
}

export interface SeriesQuery {
  measurement: string;
  field: string;
  /** Matches every series whose tags include all these pairs ({} matches all series of the measurement). */
  tags: Record<string, string>;
  /** epoch ms, inclusive; buckets start here: [from, from + stepMs), [from + stepMs, …) */
  from: number;
  /** epoch ms, exclusive */
  to: number;
  /**
   * bucket width in ms; each bucket gives the last value in it (newest time across the matching
   * series), timed at the bucket's start; empty buckets are left out
   */
  stepMs: number;
}

export interface SeriesSample {
  time: number;
  value: number;
}

/** Several fields of one measurement per bucket, read from one point (see SeriesStore.queryRows). */
export interface SeriesRowsQuery extends Omit<SeriesQuery, 'field'> {
  /** The fields to read; the first picks the point: the newest one that has it. */
  fields: readonly [string, ...string[]];
}

/** The newest point before a time (see SeriesStore.latestRow). */
export interface SeriesLatestQuery {
  measurement: string;
  tags: Record<string, string>;
  fields: readonly [string, ...string[]];
  /** epoch ms, exclusive */
  before: number;
}

export interface SeriesRow {
  time: number;
  /** Every requested field: the point's value, null where the point has none. */
  values: Record<string, number | null>;
}

export interface SeriesStore {
  readonly kind: string;
  write(points: readonly SeriesPoint[]): Promise<void>;
  query(q: SeriesQuery): Promise<SeriesSample[]>;
  /**
   * Buckets as `query` makes them, each giving one point: the newest in the bucket that has the first
   * field (newest across the matching series), with its values of all the fields — so values written
   * together are read together, and a field the point lacks (an LTV with nothing eligible) is null
   * instead of some older point's value.
   */
  queryRows(q: SeriesRowsQuery): Promise<SeriesRow[]>;
  /** The newest point before `before` that has the first field, timed at the point itself; null if none. */
  latestRow(q: SeriesLatestQuery): Promise<SeriesRow | null>;
  /** Writes out anything buffered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
