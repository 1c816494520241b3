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
import type { AuditReader, StateStore } from './state.ts';
import { openPgAuditReader } from './pg/audit.ts';
import { openSqliteAuditReader } from './sqlite/audit.ts';
import { holdPgSingleRole, type SingleRole } from './pg/singleton.ts';
import { openPgWebhooks } from './pg/webhooks.ts';
import { openSqliteWebhooks } from './sqlite/webhooks.ts';
import type { WebhookStore } from './webhooks.ts';

/**
 * A SQLite file, and the write lock every thread opening it shares (newWriteLock(): a SharedArrayBuffer,
 * so the spec stays serialisable to ingest's worker threads; see sqlite/write-lock.ts).
 */
export type SqliteSpec = { kind: 'sqlite'; path: string; writeLock?: SharedArrayBuffer };
/** PostgreSQL is chosen by PW_DATABASE_URL; webhook endpoints and deliveries live in the same database. */
export type StateStoreSpec = SqliteSpec | { kind: 'postgres'; url: string; poolSize?: number };
export type SeriesStoreSpec = SqliteSpec | { kind: 'influx'; url: string };

/** What a series adapter reports to the process that opened it (not serialisable, so apart from the spec). */
export interface SeriesStoreDeps {
  log?: SeriesLog;
  metrics?: SeriesWriterMetrics;
}

const sqliteOptions = (spec: SqliteSpec) => (spec.writeLock === undefined ? { path: spec.path } : { path: spec.path, writeLock: spec.writeLock });

/** Async because a networked adapter connects and migrates before it is usable. */
export async function openStateStore(spec: StateStoreSpec): Promise<StateStore> {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteState(sqliteOptions(spec));
    case 'postgres':
      return openPgState(spec.poolSize === undefined ? { url: spec.url } : { url: spec.url, poolSize: spec.poolSize });
  }
}

export function openSeriesStore(spec: SeriesStoreSpec, deps: SeriesStoreDeps = {}): SeriesStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteSeries(sqliteOptions(spec));
    case 'influx':
      return openInfluxSeries({ url: spec.url, ...deps });
  }
}

/**
 * Webhook endpoints and deliveries live in the state database (a pool of their own on PostgreSQL,
 * smaller than the state store's unless `poolSize` says otherwise). Async like openStateStore.
 */
export async function openWebhookStore(spec: StateStoreSpec): Promise<WebhookStore> {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteWebhooks(sqliteOptions(spec));
    case 'postgres':
      return openPgWebhooks(spec.poolSize === undefined ? { url: spec.url } : { url: spec.url, poolSize: spec.poolSize });
  }
}

/**
 * Claims the one `role` process a state database may have (ingest): refused with an error naming the
 * conflict while another process holds it. A SQLite file belongs to one process anyway (the central
 * configuration refuses to split its roles), so there is nothing to hold.
 */
export async function claimSingleRole(spec: StateStoreSpec, role: 'ingest'): Promise<SingleRole> {
  switch (spec.kind) {
    case 'sqlite':
      return { lost: new Promise<Error>(() => {}), release: () => Promise.resolve() };
    case 'postgres':
      return holdPgSingleRole(spec.url, role);
  }
}

/**
 * The audit trail of a state database, read only: no migration, no write (`pledgewatch verify-audit`).
 * A SQLite file must exist; it may be open by the central side meanwhile.
 */
export async function openAuditReader(spec: StateStoreSpec): Promise<AuditReader> {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteAuditReader(spec.path);
    case 'postgres':
      return openPgAuditReader(spec.url);
  }
}
