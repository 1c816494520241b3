/** Pledges, the EPC → pledge index that forbids double pledging, and the last published status. */
import { auditEntry, normaliseEpc, PwError, type Pledge, type ValuationStatus } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import { appendAudit, registerAudit } from './audit.ts';
import { lockOutbox, transaction, type Pool } from './db.ts';

type PledgeOps = Pick<
  StateStore,
  | 'createPledge'
  | 'getPledge'
  | 'listPledges'
  | 'listAllPledges'
  | 'listPledgesChangedSince'
  | 'updatePledgeLoan'
  | 'setPledgeStatus'
  | 'getPledgeStatus'
>;

export function pledgeOps(pool: Pool): PledgeOps {
  const bodies = async (sql: string, params: unknown[] = []): Promise<Pledge[]> =>
    (await pool.query<{ body: string }>(sql, params)).rows.map((r) => JSON.parse(r.body) as Pledge);

  return {
    // The unique keys decide, not a prior read: a concurrent insert of the same id or EPC waits for
    // the other transaction and then finds the row taken, so of two racing pledges exactly one wins.
    createPledge: (pledge) =>
      transaction(pool, async (c) => {
        const { rowCount } = await c.query(
          `INSERT INTO pledges (id, tenant, site_id, borrower, updated_at, body) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO NOTHING`,
          [pledge.id, pledge.tenant, pledge.siteId, pledge.borrower, toMs(pledge.createdAt, 'createdAt'), JSON.stringify(pledge)],
        );
        if (rowCount === 0) throw new PwError('PLEDGE_EXISTS', `Pledge ${pledge.id} already exists`);
        for (const [i, item] of pledge.items.entries()) {
          // Case-insensitive on purpose: 'abc…' and 'ABC…' are one physical tag, pledged once.
          const epc = normaliseEpc(item.epc);
          const inserted = await c.query('INSERT INTO pledge_items (epc, pledge_id) VALUES ($1, $2) ON CONFLICT (epc) DO NOTHING', [
            epc,
            pledge.id,
          ]);
          if (inserted.rowCount === 1) continue;
          const owner = await c.query<{ pledge_id: string }>('SELECT pledge_id FROM pledge_items WHERE epc = $1', [epc]);
          const twice = owner.rows[0]?.pledge_id === pledge.id;
          // The other pledge's id is not named: it may belong to another tenant.
          throw new PwError(
            'EPC_ALREADY_PLEDGED',
            twice ? `EPC ${item.epc} is listed twice in this pledge` : `EPC ${item.epc} is already pledged`,
            [{ path: `/items/${i}/epc`, reason: twice ? 'duplicate EPC' : 'already pledged' }],
          );
        }
        // The head is a new row no other writer can see yet: no lock to wait for.
        await registerAudit(c, pledge);
      }),
    getPledge: async (tenant, id) => (await bodies('SELECT body FROM pledges WHERE tenant = $1 AND id = $2', [tenant, id]))[0] ?? null,
    listPledges: (tenant, filter = {}) =>
      bodies(
        `SELECT body FROM pledges
         WHERE tenant = $1 AND ($2::text IS NULL OR site_id = $2) AND ($3::text IS NULL OR borrower = $3)
         ORDER BY id COLLATE "C"`,
        [tenant, filter.siteId ?? null, filter.borrower ?? null],
      ),
    listAllPledges: () => bodies('SELECT body FROM pledges ORDER BY id COLLATE "C"'),
    // Ordered by change time so a follower can take the last row's time as its next `since`.
    listPledgesChangedSince: (since) =>
      bodies('SELECT body FROM pledges WHERE updated_at > $1 ORDER BY updated_at, id COLLATE "C"', [toMs(since, 'since')]),
    // Row-locked read-modify-write: two concurrent loan updates apply one after the other. The outbox
    // lock comes first: the audit append below locks the head after the pledge row (see pg/audit.ts).
    updatePledgeLoan: (tenant, id, outstanding, at) =>
      transaction(pool, async (c) => {
        await lockOutbox(c);
        const { rows } = await c.query<{ body: string; updated_at: string }>(
          'SELECT body, updated_at FROM pledges WHERE tenant = $1 AND id = $2 FOR UPDATE',
          [tenant, id],
        );
        const row = rows[0];
        if (row === undefined) return null;
        const current = JSON.parse(row.body) as Pledge;
        const next: Pledge = { ...current, loan: { ...current.loan, outstanding } };
        // Strictly later than the last change, so a follower polling by change time never misses it.
        const changedAt = Math.max(toMs(at, 'at'), Number(row.updated_at) + 1);
        await c.query('UPDATE pledges SET body = $1, updated_at = $2 WHERE id = $3', [JSON.stringify(next), changedAt, id]);
        await appendAudit(c, auditEntry.loanChanged(current, outstanding, at));
        return next;
      }),
    setPledgeStatus: async (pledgeId, status) => {
      await pool.query('UPDATE pledges SET valuation_status = $1 WHERE id = $2', [status, pledgeId]);
    },
    getPledgeStatus: async (pledgeId) => {
      const { rows } = await pool.query<{ s: ValuationStatus | null }>('SELECT valuation_status AS s FROM pledges WHERE id = $1', [
        pledgeId,
      ]);
      return rows[0]?.s ?? null;
    },
  };
}
