/**
 * The production StateStore: PostgreSQL through a bounded pool, so several ingest and API processes
 * share one database (DESIGN.md, "Beyond one machine"). Migrated at open; see db.ts for the locks.
 */
import type { StateStore } from '../state.ts';
import { auditReads } from './audit.ts';
import { openPool, type PgOptions } from './db.ts';
import { PG_STATE_COMPONENTS } from './migrations.ts';
import { alertOps } from './state-alerts.ts';
import { changeOps } from './state-changes.ts';
import { identityOps } from './state-identities.ts';
import { liveOps } from './state-live.ts';
import { pledgeOps } from './state-pledges.ts';
import { releaseOps } from './state-releases.ts';
import { valuationOps } from './state-valuation.ts';

export type PgStateOptions = PgOptions;

export async function openPgState(opts: PgStateOptions): Promise<StateStore> {
  const pool = await openPool(opts, PG_STATE_COMPONENTS);
  const { write: writeAlerts, ...alerts } = alertOps(pool);
  return {
    kind: 'postgres',
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
    ...identityOps(pool),
    ...pledgeOps(pool),
    ...liveOps(pool, writeAlerts),
    ...alerts,
    ...releaseOps(pool),
    ...valuationOps(pool),
    ...auditReads(pool),
    ...changeOps(pool),
  };
}
