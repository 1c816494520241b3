import { Counter, Gauge, type Registry } from 'prom-client';
import { REJECT_REASONS } from './local-broker/messages.ts';

export interface EdgeMetrics {
  reads: Counter<'reader'>;
  ignoredReads: Counter<'reader' | 'reason'>;
  ignoredLines: Counter<'reader' | 'reason'>;
  eventsSent: Counter<'type'>;
  batchesSent: Counter;
  dropped: Counter;
  outboxDepth: Gauge;
  uplinkConnected: Gauge;
  readerConnected: Gauge<'reader'>;
  tagsPresent: Gauge;
  localMessages: Counter<'kind'>;
  localRejected: Counter<'reason'>;
  localClients: Gauge;
  presenceSaveErrors: Counter;
}

/** What the gauges read at scrape time, so they can never drift from the state they report. */
export interface MetricSources {
  depth: () => number;
  readers: () => readonly { readerId: string; connected: boolean }[];
  tagsPresent: () => number;
  localClients: () => number;
}

/** The agent's metrics: what an operator graphs (rates of the counters, the gauges as they are). */
export function edgeMetrics(registry: Registry, sources: MetricSources): EdgeMetrics {
  const registers = [registry];
  const localRejected = new Counter({
    name: 'pw_edge_local_rejected_total',
    help: 'Local broker: logins, publishes and subscribes refused, and device messages dropped, by reason',
    labelNames: ['reason'],
    registers,
  });
  // Every reason at 0 from the start, so a rate() alert works before the first rejection.
  for (const reason of REJECT_REASONS) localRejected.inc({ reason }, 0);
  return {
    reads: new Counter({ name: 'pw_edge_reads_total', help: 'Tag reads from the reader drivers, by reader', labelNames: ['reader'], registers }),
    ignoredReads: new Counter({
      name: 'pw_edge_ignored_reads_total',
      help: 'Reads presence could not place (unmapped antenna, bad EPC), by reader and reason',
      labelNames: ['reader', 'reason'],
      registers,
    }),
    ignoredLines: new Counter({
      name: 'pw_edge_ignored_lines_total',
      help: 'Lines from serial readers that gave no read (no match, bad EPC/antenna/RSSI, too long, …), by reader and reason',
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
        this.set(sources.depth());
      },
    }),
    uplinkConnected: new Gauge({ name: 'pw_edge_uplink_connected', help: '1 while connected to the central broker', registers }),
    readerConnected: new Gauge({
      name: 'pw_edge_reader_connected',
      help: '1 while the reader is connected and inventorying, by reader',
      labelNames: ['reader'],
      registers,
      collect() {
        for (const r of sources.readers()) this.set({ reader: r.readerId }, r.connected ? 1 : 0);
      },
    }),
    tagsPresent: new Gauge({
      name: 'pw_edge_tags_present',
      help: 'Tags the agent holds present (those of a disconnected reader included)',
      registers,
      collect() {
        this.set(sources.tagsPresent());
      },
    }),
    localMessages: new Counter({
      name: 'pw_edge_local_messages_total',
      help: 'Local broker: device messages taken and forwarded, by device kind',
      labelNames: ['kind'],
      registers,
    }),
    localRejected,
    localClients: new Gauge({
      name: 'pw_edge_local_clients',
      help: 'Local broker: devices connected now',
      registers,
      collect() {
        this.set(sources.localClients());
      },
    }),
    presenceSaveErrors: new Counter({
      name: 'pw_edge_presence_save_errors_total',
      help: 'Failed saves of the tag presence to edge.db (retried at the next save)',
      registers,
    }),
  };
}
