/**
 * The production StateStore: PostgreSQL through a bounded pool, so several ingest and API processes
 * share one database (DESIGN.md, "Beyond one machine"). Migrated at open; see db.ts for the locks.
 */
import { KeyedSerial } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { auditReads } from './audit.ts';
import { LOCKS, openPool, transaction, type PgOptions } from './db.ts';
import { PG_STATE_COMPONENTS } from './migrations.ts';
import { alertOps } from './state-alerts.ts';
import { changeOps } from './state-changes.ts';
import { identityOps } from './state-identities.ts';
import { ingestOps } from './state-ingest.ts';
import { liveOps } from './state-live.ts';
import { pledgeOps } from './state-pledges.ts';
import { releaseOps } from './state-releases.ts';
import { valuationOps } from './state-valuation.ts';

export type PgStateOptions = PgOptions;

/** Connections for exclusivePledge's locks: pledges changed at once beyond this queue for one. */
const LOCK_POOL_SIZE = 3;

export async function openPgState(opts: PgStateOptions): Promise<StateStore> {
  const pool = await openPool(opts, PG_STATE_COMPONENTS);
  const { write: writeAlerts, ...alerts } = alertOps(pool);
  // exclusivePledge holds a transaction-scoped advisory lock on a connection of its own pool while the
  // work uses the main one: were they one pool, N locked pledges could take every connection and wait
  // for a connection for ever. Within the process, calls for one pledge queue before taking a lock.
  const lockPool = await openPool({ ...opts, poolSize: LOCK_POOL_SIZE }, []);
  const serial = new KeyedSerial();
  return {
    kind: 'postgres',
    exclusivePledge: (pledgeId, work) =>
      serial.run(pledgeId, () =>
        transaction(lockPool, async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCKS.pledge, pledgeId]);
          return work();
        }),
      ),
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await lockPool.end();
      await pool.end();
    },
    ...identityOps(pool),
    ...pledgeOps(pool),
    ...liveOps(pool, writeAlerts),
    ...alerts,
    ...releaseOps(pool),
    ...valuationOps(pool),
    ...auditReads(pool),
    ...changeOps(pool),
    ...ingestOps(pool),
  };
}
