export * from './state.ts';
export * from './series.ts';
export { openSqliteState } from './sqlite/state.ts';
export { openSqliteSeries } from './sqlite/series.ts';
export { openSeriesStore, openStateStore, type SeriesStoreSpec, type StateStoreSpec } from './open.ts';
export * from './webhooks.ts';
export { openSqliteWebhooks } from './sqlite/webhooks.ts';
