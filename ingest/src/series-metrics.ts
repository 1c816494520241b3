/** prom-client counters behind the series store's writer (the store itself stays free of prom-client). */
import type { DropReason, SeriesWriterMetrics } from '@pledgewatch/store';
import { Counter, Gauge, type Registry } from 'prom-client';

export function seriesMetrics(registry: Registry): SeriesWriterMetrics {
  const registers = [registry];
  const dropped = new Counter({
    name: 'pw_series_dropped_points_total',
    help: 'Time-series points given up: buffer_full (backend down past the buffer bound), rejected (refused as bad data), invalid, closed (unwritten at shutdown)',
    labelNames: ['reason'] as const,
    registers,
  });
  const written = new Counter({ name: 'pw_series_written_points_total', help: 'Time-series points written to the backend', registers });
  const retries = new Counter({ name: 'pw_series_write_retries_total', help: 'Series write requests retried after a transient failure', registers });
  const buffered = new Gauge({ name: 'pw_series_buffered_points', help: 'Time-series points buffered or in flight', registers });
  // Every reason shows up as 0 from the start, so an alert on the rate of drops has a series to watch.
  for (const reason of ['buffer_full', 'rejected', 'invalid', 'closed'] satisfies DropReason[]) dropped.inc({ reason }, 0);
  return {
    written: (n) => written.inc(n),
    dropped: (reason, n) => dropped.inc({ reason }, n),
    retried: () => retries.inc(),
    buffered: (n) => buffered.set(n),
  };
}
