/** Messages between the process and ingest's worker thread. */
import type { MessagePort } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { SeriesStoreSpec, StateStoreSpec } from '@pledgewatch/store';
import type { RuleSettingsT } from '../rules/config.ts';
import type { ShardNews } from '../shards.ts';

/** Everything the worker needs, as plain data (it crosses a thread boundary). */
export interface IngestWorkerOptions {
  state: StateStoreSpec;
  series: SeriesStoreSpec;
  /**
   * The broker to read, over MQTT. Absent: the embedded broker in this process hands the messages over
   * on the MessagePort in the worker's data (broker/handover.ts).
   */
  mqtt?: MqttSource;
  logLevel: string;
  checkpointMs?: number;
  pledgeRefreshMs?: number;
  /** Alert rule settings, in seconds (see rules/config.ts). */
  rules?: RuleSettingsT;
  /**
   * Deliver the event outbox to webhook endpoints (where the events are made): from shard 0's thread,
   * which the other shards wake through the host when they commit events.
   */
  webhooks?: { allow: string[]; pollMs?: number; concurrencyPerEndpoint?: number };
  /** This thread's shard (see shards.ts); the host sets it. */
  shard?: { index: number; count: number };
}

export interface MqttSource {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  topics: string[];
}

/** What a worker thread is started with. */
export interface IngestWorkerData {
  entry: string;
  options: IngestWorkerOptions;
  /** The hand-over's port, when options.mqtt is absent. */
  handover?: MessagePort;
}

export type Metrics = MetricObjectWithValues<MetricValue<string>>[];

export type ToWorker =
  | { type: 'metrics'; id: number }
  /** One counter or gauge, summed over its label values: far cheaper than every metric. */
  | { type: 'total'; id: number; name: string }
  | { type: 'refreshPledges'; id: number }
  | { type: 'stop' }
  /** From another shard, relayed. */
  | { type: 'news'; news: ShardNews }
  /** Events were committed on another shard: deliver them now rather than at the next poll. */
  | { type: 'notify' };

export type FromWorker =
  | { type: 'started' }
  | { type: 'failed'; error: string }
  | { type: 'connected'; value: boolean }
  | { type: 'metrics'; id: number; metrics: Metrics }
  | { type: 'total'; id: number; total: number }
  | { type: 'refreshed'; id: number }
  | { type: 'stopped' }
  /** For shard `to`, or every other shard (null). */
  | { type: 'share'; to: number | null; news: ShardNews }
  /** For shard 0's dispatcher. */
  | { type: 'notify' };
