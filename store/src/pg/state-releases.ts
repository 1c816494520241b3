/** Release records: what the rules and the valuation take out of a pledge. */
import { auditEntry, PwError, type Release } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import { appendAudit } from './audit.ts';
import { transaction, type Pool } from './db.ts';

type ReleaseOps = Pick<StateStore, 'createRelease' | 'getRelease' | 'listReleases' | 'listReleasesSince'>;

export function releaseOps(pool: Pool): ReleaseOps {
  const bodies = async (sql: string, params: unknown[]): Promise<Release[]> =>
    (await pool.query<{ body: string }>(sql, params)).rows.map((r) => JSON.parse(r.body) as Release);

  return {
    // One statement: the pledge check and the insert see the same snapshot, and the foreign key
    // holds the pledge against a concurrent delete. Its audit record commits with it.
    createRelease: (r) =>
      transaction(pool, async (c) => {
        const stored: Release = { ...r, epcs: r.epcs.map((e) => e.toUpperCase()) };
        const { rowCount } = await c.query(
          `INSERT INTO releases (id, tenant, pledge_id, created_at, body)
           SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM pledges WHERE tenant = $2 AND id = $3)`,
          [r.id, r.tenant, r.pledgeId, toMs(r.createdAt, 'release.createdAt'), JSON.stringify(stored)],
        );
        if (rowCount === 0) throw new PwError('NOT_FOUND', `No pledge ${r.pledgeId}`);
        await appendAudit(c, auditEntry.released(stored));
      }),
    getRelease: async (tenant, id) => (await bodies('SELECT body FROM releases WHERE tenant = $1 AND id = $2', [tenant, id]))[0] ?? null,
    listReleases: (tenant, pledgeId) =>
      bodies('SELECT body FROM releases WHERE tenant = $1 AND pledge_id = $2 ORDER BY created_at, id COLLATE "C"', [tenant, pledgeId]),
    listReleasesSince: (time) =>
      bodies('SELECT body FROM releases WHERE created_at > $1 ORDER BY created_at, id COLLATE "C"', [toMs(time, 'since')]),
  };
}
