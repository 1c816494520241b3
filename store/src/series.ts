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
  tags: Record<string, string>;
  from: number;
  to: number;
  /** bucket width in ms; each bucket gives the last value in it */
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
