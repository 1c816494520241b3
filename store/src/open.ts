/**
 * Which adapter serves a store, chosen from a serialisable spec: the composition root and ingest's
 * worker thread open the same stores from the same spec.
 */
import { openInfluxSeries } from './influx/series.ts';
import type { SeriesLog, SeriesWriterMetrics } from './influx/types.ts';
import type { SeriesStore } from './series.ts';
import { openSqliteSeries } from './sqlite/series.ts';
import { openSqliteState } from './sqlite/state.ts';
import type { StateStore } from './state.ts';
import { openSqliteWebhooks } from './sqlite/webhooks.ts';
import type { WebhookStore } from './webhooks.ts';

export type StateStoreSpec = { kind: 'sqlite'; path: string };
export type SeriesStoreSpec = { kind: 'sqlite'; path: string } | { kind: 'influx'; url: string };

/** What a series adapter reports to the process that opened it (not serialisable, so apart from the spec). */
export interface SeriesStoreDeps {
  log?: SeriesLog;
  metrics?: SeriesWriterMetrics;
}

export function openStateStore(spec: StateStoreSpec): StateStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteState({ path: spec.path });
  }
}

export function openSeriesStore(spec: SeriesStoreSpec, deps: SeriesStoreDeps = {}): SeriesStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteSeries({ path: spec.path });
    case 'influx':
      return openInfluxSeries({ url: spec.url, ...deps });
  }
}

/** Webhook endpoints and deliveries live in the state database. */
export function openWebhookStore(spec: StateStoreSpec): WebhookStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteWebhooks({ path: spec.path });
  }
}
