/** The shapes the InfluxDB adapter's write buffer shares with the code that opens it. */

/** Why points were given up: see `pw_series_dropped_points_total` in the README. */
export type DropReason = 'buffer_full' | 'rejected' | 'invalid' | 'closed';

/** What the writer reports; ingest backs these with prom-client (`pw_series_*`). */
export interface SeriesWriterMetrics {
  written(points: number): void;
  dropped(reason: DropReason, points: number): void;
  retried(): void;
  buffered(points: number): void;
}

/** The part of a pino logger the store uses (the store does not depend on pino itself). */
export interface SeriesLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Points already serialised as the backend takes them: `points` lines, joined by newlines. */
export interface Chunk {
  body: string;
  points: number;
}

/** How a failed send ends: retried later, or given up with some of the batch's points lost. */
export type SendFailure = { retry: true; reason: string } | { retry: false; lostPoints: number; reason: string };
