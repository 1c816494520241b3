import type { Clock } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import type { StateCache } from './domain/state-cache.ts';

/** What the /v1 routes work with; built once by buildApp and handed to each route group. */
export interface RouteDeps {
  store: StateStore;
  /** What the read-mostly routes take from memory while the store's change counters say it is current. */
  cache: StateCache;
  clock: Clock;
  maxPriceAgeMs: number | undefined;
  maxPriceAgeByCommodityMs: Readonly<Record<string, number>> | undefined;
}
