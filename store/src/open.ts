/**
 * Which adapter serves a store, chosen from a serialisable spec: the composition root and ingest's
 * worker thread open the same stores from the same spec.
 */
import type { SeriesStore } from './series.ts';
import { openSqliteSeries } from './sqlite/series.ts';
import { openSqliteState } from './sqlite/state.ts';
import type { StateStore } from './state.ts';

export type StateStoreSpec = { kind: 'sqlite'; path: string };
export type SeriesStoreSpec = { kind: 'sqlite'; path: string };

export function openStateStore(spec: StateStoreSpec): StateStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteState({ path: spec.path });
  }
}

export function openSeriesStore(spec: SeriesStoreSpec): SeriesStore {
  switch (spec.kind) {
    case 'sqlite':
      return openSqliteSeries({ path: spec.path });
  }
}
