/**
 * The audit trail on PostgreSQL (see common/src/audit.ts): each record is appended inside the
 * transaction of the change it records. An append locks its pledge's head row (FOR UPDATE), so two
 * writers of one pledge, from any processes, take turns and seqs and links never fork. Writers that
 * lock several heads (alert and status events, prices, FX rates, loan changes) also hold the outbox lock
 * (LOCKS.outbox) from the start of their transaction, so they cannot deadlock on each other's heads.
 */
import pg from 'pg';
import { EMPTY_AUDIT_HEAD, nextAuditRecord, type AuditEntry, type AuditHead, type AuditRecord, type Pledge } from '@pledgewatch/common';
import type { AuditReader } from '../state.ts';
import { missingHead } from '../sqlite/audit.ts';
import type { Client, Pool, Queryable } from './db.ts';

interface HeadRow {
  pledge_id: string;
  seq: string;
  hash: string;
}

/** Rows per statement when a price or rate is recorded in many chains. */
const CHUNK = 5_000;

/**
 * Inserts records that share `at`, `type` and data (one fact recorded in many chains, or one record)
 * and moves their heads, in one statement.
 */
async function writeRecords(c: Client, records: readonly AuditRecord[], data: string): Promise<void> {
  const first = records[0];
  if (first === undefined) return;
  await c.query(
    `WITH r AS (
       INSERT INTO audit_records (pledge_id, seq, at, type, data, prev_hash, hash)
       SELECT u.pledge_id, u.seq, $5, $6, $7, u.prev_hash, u.hash
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(pledge_id, seq, prev_hash, hash)
     )
     UPDATE audit_heads h SET seq = u.seq, hash = u.hash
     FROM unnest($1::text[], $2::bigint[], $4::text[]) AS u(pledge_id, seq, hash)
     WHERE h.pledge_id = u.pledge_id`,
    [records.map((r) => r.pledgeId), records.map((r) => r.seq), records.map((r) => r.prevHash), records.map((r) => r.hash), first.at, first.type, data],
  );
}

async function appendToAll(c: Client, heads: HeadRow[], entry: Omit<AuditEntry, 'pledgeId'>): Promise<number> {
  const data = JSON.stringify(entry.data);
  for (let i = 0; i < heads.length; i += CHUNK) {
    const records = heads.slice(i, i + CHUNK).map((h) => nextAuditRecord({ seq: Number(h.seq), hash: h.hash }, { ...entry, pledgeId: h.pledge_id }));
    await writeRecords(c, records, data);
  }
  return heads.length;
}

/** Starts a new pledge's chain with its registration (the whole pledge as registered). */
export async function registerAudit(c: Client, pledge: Pledge): Promise<void> {
  await c.query('INSERT INTO audit_heads (pledge_id, commodity, currency, seq, hash) VALUES ($1, $2, $3, 0, $4)', [
    pledge.id,
    pledge.commodity,
    pledge.loan.currency,
    EMPTY_AUDIT_HEAD.hash,
  ]);
  const data = JSON.stringify(pledge);
  await writeRecords(c, [nextAuditRecord(EMPTY_AUDIT_HEAD, { pledgeId: pledge.id, at: pledge.createdAt, type: 'pledge.registered', data: pledge })], data);
}

/** Appends one record to its pledge's chain, holding its head until the transaction ends. */
export async function appendAudit(c: Client, entry: AuditEntry): Promise<void> {
  const { rows } = await c.query<HeadRow>('SELECT pledge_id, seq, hash FROM audit_heads WHERE pledge_id = $1 FOR UPDATE', [entry.pledgeId]);
  const head = rows[0];
  if (head === undefined) throw missingHead(entry.pledgeId);
  await writeRecords(c, [nextAuditRecord({ seq: Number(head.seq), hash: head.hash }, entry)], JSON.stringify(entry.data));
}

/** A new price, in the chain of every pledge of its commodity (heads locked in id order). */
export async function appendAuditToCommodity(c: Client, commodity: string, entry: Omit<AuditEntry, 'pledgeId'>): Promise<number> {
  const { rows } = await c.query<HeadRow>(
    'SELECT pledge_id, seq, hash FROM audit_heads WHERE commodity = $1 ORDER BY pledge_id COLLATE "C" FOR UPDATE',
    [commodity],
  );
  return appendToAll(c, rows, entry);
}

/** A new FX rate, in the chain of every pledge converting between base and quote at its commodity's current price. */
export async function appendAuditToCurrencyPair(c: Client, base: string, quote: string, entry: Omit<AuditEntry, 'pledgeId'>): Promise<number> {
  const { rows } = await c.query<HeadRow>(
    `SELECT h.pledge_id, h.seq, h.hash FROM audit_heads h JOIN prices p ON p.commodity = h.commodity
     WHERE (p.body::json ->> 'currency' = $1 AND h.currency = $2) OR (p.body::json ->> 'currency' = $2 AND h.currency = $1)
     ORDER BY h.pledge_id COLLATE "C" FOR UPDATE OF h`,
    [base, quote],
  );
  return appendToAll(c, rows, entry);
}

type AuditReads = Omit<AuditReader, 'close'>;

export function auditReads(db: Queryable): AuditReads {
  return {
    listAuditedPledges: async () =>
      (
        await db.query<{ id: string }>(
          `SELECT id FROM (SELECT id FROM pledges UNION SELECT pledge_id FROM audit_heads UNION SELECT pledge_id FROM audit_records) AS u
           ORDER BY id COLLATE "C"`,
        )
      ).rows.map((r) => r.id),
    getAuditHead: async (pledgeId) => {
      const { rows } = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_heads WHERE pledge_id = $1', [pledgeId]);
      const head = rows[0];
      return head === undefined ? null : ({ seq: Number(head.seq), hash: head.hash } satisfies AuditHead);
    },
    auditRecords: async (pledgeId, after, limit) => {
      const { rows } = await db.query<{ seq: string; at: string; type: string; data: string; prev_hash: string; hash: string }>(
        'SELECT seq, at, type, data, prev_hash, hash FROM audit_records WHERE pledge_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [pledgeId, after, limit],
      );
      return rows.map((r) => ({ pledgeId, seq: Number(r.seq), at: r.at, type: r.type, data: r.data, prevHash: r.prev_hash, hash: r.hash }));
    },
  };
}

/**
 * The audit trail of a PostgreSQL state database, read only (no migrations, no writes), for
 * `pledgewatch verify-audit --database-url`.
 */
export async function openPgAuditReader(url: string): Promise<AuditReader> {
  const pool: Pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  try {
    const { rows } = await pool.query<{ r: string | null; h: string | null }>(
      `SELECT to_regclass('audit_records')::text AS r, to_regclass('audit_heads')::text AS h`,
    );
    if (rows[0]?.r == null || rows[0].h == null) throw new Error('the database has no audit trail (tables audit_records and audit_heads): not a PledgeWatch state database of this version');
    return { ...auditReads(pool), close: () => pool.end() };
  } catch (err) {
    await pool.end();
    throw err;
  }
}
