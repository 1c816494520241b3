/** Release records: what the rules and the valuation take out of a pledge. */
import { auditEntry, PwError, type Release } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import type { AuditWriter } from './audit.ts';
import { later, writeTx, type Db } from './db.ts';
import { toMs } from './time.ts';

type ReleaseOps = Pick<StateStore, 'createRelease' | 'getRelease' | 'listReleases' | 'listReleasesSince'>;

export function releaseOps(db: Db, audit: AuditWriter): ReleaseOps {
  const pledgeOf = db.prepare<[string, string], number>('SELECT 1 FROM pledges WHERE tenant = ? AND id = ?').pluck();
  const insert = db.prepare<[string, string, string, number, string]>(
    'INSERT INTO releases (id, tenant, pledge_id, created_at, body) VALUES (?, ?, ?, ?, ?)',
  );
  const byId = db.prepare<[string, string], string>('SELECT body FROM releases WHERE tenant = ? AND id = ?').pluck();
  const ofPledge = db
    .prepare<[string, string], string>('SELECT body FROM releases WHERE tenant = ? AND pledge_id = ? ORDER BY created_at, id')
    .pluck();
  const since = db.prepare<[number], string>('SELECT body FROM releases WHERE created_at > ? ORDER BY created_at, id').pluck();

  const create = writeTx(db, (r: Release) => {
    if (pledgeOf.get(r.tenant, r.pledgeId) === undefined) throw new PwError('NOT_FOUND', `No pledge ${r.pledgeId}`);
    const stored: Release = { ...r, epcs: r.epcs.map((e) => e.toUpperCase()) };
    insert.run(r.id, r.tenant, r.pledgeId, toMs(r.createdAt, 'release.createdAt'), JSON.stringify(stored));
    audit.append(auditEntry.released(stored));
  });

  return {
    createRelease: (release) => later(() => create(release)),
    getRelease: (tenant, id) =>
      later(() => {
        const body = byId.get(tenant, id);
        return body === undefined ? null : (JSON.parse(body) as Release);
      }),
    listReleases: (tenant, pledgeId) => later(() => ofPledge.all(tenant, pledgeId).map((b) => JSON.parse(b) as Release)),
    listReleasesSince: (time) => later(() => since.all(toMs(time, 'since')).map((b) => JSON.parse(b) as Release)),
  };
}
