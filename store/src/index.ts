export * from './state.ts';
export * from './series.ts';
export { openSqliteState } from './sqlite/state.ts';
export { openSqliteSeries } from './sqlite/series.ts';
