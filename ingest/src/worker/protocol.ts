/** Messages between the process and ingest's worker thread. */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { SeriesStoreSpec, StateStoreSpec } from '@pledgewatch/store';
import type { RuleSettingsT } from '../rules/config.ts';

/** Everything the worker needs, as plain data (it crosses a thread boundary). */
export interface IngestWorkerOptions {
  state: StateStoreSpec;
  series: SeriesStoreSpec;
  mqtt: { url: string; clientId: string; username?: string; password?: string; topics: string[] };
  logLevel: string;
  checkpointMs?: number;
  pledgeRefreshMs?: number;
  /** Alert rule settings, in seconds (see rules/config.ts). */
  rules?: RuleSettingsT;
  /** Deliver the event outbox to webhook endpoints from this thread (where the events are made). */
  webhooks?: { allow: string[]; pollMs?: number; concurrencyPerEndpoint?: number };
}

export type Metrics = MetricObjectWithValues<MetricValue<string>>[];

export type ToWorker = { type: 'metrics'; id: number } | { type: 'refreshPledges'; id: number } | { type: 'stop' };

export type FromWorker =
  | { type: 'started' }
  | { type: 'failed'; error: string }
  | { type: 'connected'; value: boolean }
  | { type: 'metrics'; id: number; metrics: Metrics }
  | { type: 'refreshed'; id: number }
  | { type: 'stopped' };
