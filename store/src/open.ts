/**
 * Which adapter serves a store, chosen from a serialisable spec: the composition root and ingest's
 * worker thread open the same stores from the same spec.
 */
import { openInfluxSeries } from './influx/series.ts';
import type { SeriesLog, SeriesWriterMetrics } from './influx/types.ts';
import type { SeriesStore } from './series.ts';
import { openSqliteSeries } from './sqlite/series.ts';
import { openPgState } from './pg/state.ts';
import { openSqliteState } from './sqlite/state.ts';
import type { StateStore } from './state.ts';
import { openSqliteWebhooks } from './sqlite/webhooks.ts';
import type { WebhookStore } from './webhooks.ts';

/** PostgreSQL is chosen by PW_DATABASE_URL; webhooks still need a SQLite file (see openWebhookStore). */
export type StateStoreSpec = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; poolSize?: number };
export type SeriesStoreSpec = { kind: 'sqlite'; path: string } | { kind: 'influx'; url: string };

/** What a series adapter reports to the process that opened it (not serialisable, so apart from the spec). */
export interface SeriesStoreDeps {
  log?: SeriesLog;
  metrics?: SeriesWriterMetrics;
}

/** Async because a networked adapter connects and migrates before it is usable. */
export async function openStateStore(spec: StateStoreSpec): Promise<StateStore> {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteState({ path: spec.path });
    case 'postgres':
      return openPgState(spec.poolSize === undefined ? { url: spec.url } : { url: spec.url, poolSize: spec.poolSize });
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
    case 'postgres':
      throw new Error('webhook deliveries have no PostgreSQL adapter yet: they need a SQLite state spec');
  }
}
