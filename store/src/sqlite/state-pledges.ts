/** Pledges, the EPC → pledge index that forbids double pledging, and the last published status. */
import { auditEntry, normaliseEpc, PwError, type Pledge, type ValuationStatus } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import type { AuditWriter } from './audit.ts';
import { later, writeRun, writeTx, type Db } from './db.ts';
import { toMs } from './time.ts';

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

interface PledgeRow {
  id: string;
  tenant: string;
  site_id: string;
  borrower: string;
  updated_at: number;
  body: string;
}

export function pledgeOps(db: Db, audit: AuditWriter): PledgeOps {
  const exists = db.prepare<[string], number>('SELECT 1 FROM pledges WHERE id = ?').pluck();
  const insertPledge = db.prepare<[PledgeRow]>(
    `INSERT INTO pledges (id, tenant, site_id, borrower, updated_at, body)
     VALUES (@id, @tenant, @site_id, @borrower, @updated_at, @body)`,
  );
  const insertItem = db.prepare<[string, string]>(
    'INSERT INTO pledge_items (epc, pledge_id) VALUES (?, ?) ON CONFLICT (epc) DO NOTHING',
  );
  const ownerOf = db.prepare<[string], string>('SELECT pledge_id FROM pledge_items WHERE epc = ?').pluck();
  const byId = db.prepare<[string, string], string>('SELECT body FROM pledges WHERE tenant = ? AND id = ?').pluck();
  const byTenant = db
    .prepare<[{ tenant: string; site: string | null; borrower: string | null }], string>(
      `SELECT body FROM pledges
       WHERE tenant = @tenant
         AND (@site IS NULL OR site_id = @site)
         AND (@borrower IS NULL OR borrower = @borrower)
       ORDER BY id`,
    )
    .pluck();
  const all = db.prepare<[], string>('SELECT body FROM pledges ORDER BY id').pluck();
  // Ordered by change time so a follower can take the last row's time as its next `since`.
  const changedSince = db
    .prepare<[number], string>('SELECT body FROM pledges WHERE updated_at > ? ORDER BY updated_at, id')
    .pluck();
  const setStatus = db.prepare<[string, string]>('UPDATE pledges SET valuation_status = ? WHERE id = ?');
  const getStatus = db
    .prepare<[string], ValuationStatus | null>('SELECT valuation_status FROM pledges WHERE id = ?')
    .pluck();

  const bodyOf = db.prepare<[string, string], { body: string; updated_at: number }>(
    'SELECT body, updated_at FROM pledges WHERE tenant = ? AND id = ?',
  );
  const rewrite = db.prepare<[string, number, string]>('UPDATE pledges SET body = ?, updated_at = ? WHERE id = ?');
  const updateLoan = writeTx(db, (tenant: string, id: string, outstanding: number, at: string): Pledge | null => {
    const row = bodyOf.get(tenant, id);
    if (row === undefined) return null;
    const current = parse(row.body);
    const next: Pledge = { ...current, loan: { ...current.loan, outstanding } };
    // Strictly later than the last change, so a follower polling by change time never misses it.
    rewrite.run(JSON.stringify(next), Math.max(toMs(at, 'at'), row.updated_at + 1), id);
    audit.append(auditEntry.loanChanged(current, outstanding, at));
    return next;
  });

  // Immediate: the id check and the inserts must see no other writer in between.
  const create = writeTx(db, (pledge: Pledge) => {
    if (exists.get(pledge.id) !== undefined) throw new PwError('PLEDGE_EXISTS', `Pledge ${pledge.id} already exists`);
    insertPledge.run({
      id: pledge.id,
      tenant: pledge.tenant,
      site_id: pledge.siteId,
      borrower: pledge.borrower,
      updated_at: toMs(pledge.createdAt, 'createdAt'),
      body: JSON.stringify(pledge),
    });
    pledge.items.forEach((item, i) => {
      // Case-insensitive on purpose: 'abc…' and 'ABC…' are one physical tag, pledged once.
      const epc = normaliseEpc(item.epc);
      if (insertItem.run(epc, pledge.id).changes === 1) return;
      const twice = ownerOf.get(epc) === pledge.id;
      // The other pledge's id is not named: it may belong to another tenant.
      throw new PwError(
        'EPC_ALREADY_PLEDGED',
        twice ? `EPC ${item.epc} is listed twice in this pledge` : `EPC ${item.epc} is already pledged`,
        [{ path: `/items/${i}/epc`, reason: twice ? 'duplicate EPC' : 'already pledged' }],
      );
    });
    audit.register(pledge);
  });

  return {
    createPledge: (pledge) => later(() => create(pledge)),
    getPledge: (tenant, id) =>
      later(() => {
        const body = byId.get(tenant, id);
        return body === undefined ? null : parse(body);
      }),
    listPledges: (tenant, filter = {}) =>
      later(() =>
        byTenant.all({ tenant, site: filter.siteId ?? null, borrower: filter.borrower ?? null }).map(parse),
      ),
    listAllPledges: () => later(() => all.all().map(parse)),
    updatePledgeLoan: (tenant, id, outstanding, at) =>
      later(() => updateLoan(tenant, id, outstanding, at)),
    listPledgesChangedSince: (since) => later(() => changedSince.all(toMs(since, 'since')).map(parse)),
    // Unknown ids are ignored: the status belongs to a pledge row and there is none to attach it to.
    setPledgeStatus: (pledgeId, status) =>
      later(() => {
        writeRun(db, () => setStatus.run(status, pledgeId));
      }),
    getPledgeStatus: (pledgeId) => later(() => getStatus.get(pledgeId) ?? null),
  };
}

function parse(body: string): Pledge {
  return JSON.parse(body) as Pledge;
}
