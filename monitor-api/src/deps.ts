import type { Clock } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';

/** What the /v1 routes work with; built once by buildApp and handed to each route group. */
export interface RouteDeps {
  store: StateStore;
  clock: Clock;
  maxPriceAgeMs: number | undefined;
}
