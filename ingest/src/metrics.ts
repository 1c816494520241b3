import { Counter, Histogram, type Registry } from 'prom-client';

export type RejectReason =
  | 'unknown_topic'
  | 'malformed_json'
  | 'invalid_batch'
  | 'invalid_event'
  | 'invalid_status'
  | 'invalid_price'
  | 'unknown_gateway'
  | 'gateway_mismatch'
  | 'commodity_mismatch'
  | 'stale_price'
  | 'invalid_fx'
  | 'pair_mismatch'
  | 'stale_fx'
  | 'internal_error';

export interface IngestMetrics {
  messages: Counter<'kind'>;
  rejected: Counter<'reason'>;
  duplicates: Counter;
  events: Counter<'type'>;
  points: Counter;
  batchSeconds: Histogram;
}

export function ingestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    messages: new Counter({ name: 'pw_ingest_messages_total', help: 'MQTT messages handled, by kind', labelNames: ['kind'], registers }),
    rejected: new Counter({
      name: 'pw_ingest_rejected_total',
      help: 'Messages or events refused, by reason (nothing else changed)',
      labelNames: ['reason'],
      registers,
    }),
    duplicates: new Counter({
      name: 'pw_ingest_duplicate_batches_total',
      help: 'Batches dropped because their (gatewayId, seq) was already applied',
      registers,
    }),
    events: new Counter({ name: 'pw_ingest_events_total', help: 'Uplink events applied, by type', labelNames: ['type'], registers }),
    points: new Counter({ name: 'pw_ingest_series_points_total', help: 'Points written to the series store', registers }),
    batchSeconds: new Histogram({
      name: 'pw_ingest_batch_seconds',
      help: 'Time to validate, commit and index one uplink batch',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}
