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

export interface SeriesStore {
  readonly kind: string;
  write(points: readonly SeriesPoint[]): Promise<void>;
  query(q: SeriesQuery): Promise<SeriesSample[]>;
  /** Writes out anything buffered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
