import { Counter, Gauge, type Registry } from 'prom-client';

export interface EdgeMetrics {
  reads: Counter<'reader'>;
  ignoredReads: Counter<'reader' | 'reason'>;
  eventsSent: Counter<'type'>;
  batchesSent: Counter;
  dropped: Counter;
  outboxDepth: Gauge;
  uplinkConnected: Gauge;
}

/** The agent's metrics; `depth` is read at scrape time so the gauge can never drift from the outbox. */
export function edgeMetrics(registry: Registry, depth: () => number): EdgeMetrics {
  const registers = [registry];
  return {
    reads: new Counter({ name: 'pw_edge_reads_total', help: 'Tag reads from the reader drivers, by reader', labelNames: ['reader'], registers }),
    ignoredReads: new Counter({
      name: 'pw_edge_ignored_reads_total',
      help: 'Reads presence could not place (unmapped antenna, bad EPC), by reader and reason',
      labelNames: ['reader', 'reason'],
      registers,
    }),
    eventsSent: new Counter({
      name: 'pw_edge_events_sent_total',
      help: 'Events acknowledged by the central broker, by type',
      labelNames: ['type'],
      registers,
    }),
    batchesSent: new Counter({ name: 'pw_edge_batches_sent_total', help: 'Batches acknowledged by the central broker', registers }),
    dropped: new Counter({ name: 'pw_edge_outbox_dropped_events_total', help: 'Events dropped because the outbox was full', registers }),
    outboxDepth: new Gauge({
      name: 'pw_edge_outbox_depth',
      help: 'Events waiting for the central broker (in flight included)',
      registers,
      collect() {
        this.set(depth());
      },
    }),
    uplinkConnected: new Gauge({ name: 'pw_edge_uplink_connected', help: '1 while connected to the central broker', registers }),
  };
}
