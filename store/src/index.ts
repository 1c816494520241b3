export * from './state.ts';
export * from './series.ts';
export { openSqliteState } from './sqlite/state.ts';
export { newWriteLock } from './sqlite/write-lock.ts';
export { openPgState, type PgStateOptions } from './pg/state.ts';
export { openSqliteSeries } from './sqlite/series.ts';
export { openInfluxSeries, type InfluxSeriesOptions } from './influx/series.ts';
export { parseInfluxUrl, type InfluxTarget } from './influx/url.ts';
export { toChunks as toLineProtocol } from './influx/line.ts';
export type { DropReason, SeriesLog, SeriesWriterMetrics } from './influx/types.ts';
export type { SingleRole } from './pg/singleton.ts';
export {
  claimSingleRole,
  openAuditReader,
  openSeriesStore,
  openStateStore,
  openWebhookStore,
  type SeriesStoreDeps,
  type SeriesStoreSpec,
  type StateStoreSpec,
} from './open.ts';
export * from './webhooks.ts';
export { openSqliteWebhooks } from './sqlite/webhooks.ts';
export { openPgWebhooks } from './pg/webhooks.ts';
