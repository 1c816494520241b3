/**
 * The audit trail on SQLite (see common/src/audit.ts): each record is appended inside the transaction
 * of the change it records, so a change and its record commit together or not at all. Writers hold
 * SQLite's write lock (immediate transactions), so a pledge's seqs and links never fork.
 */
import Database from 'better-sqlite3';
import { EMPTY_AUDIT_HEAD, nextAuditRecord, type AuditEntry, type AuditHead, type Pledge, type StoredAuditRecord } from '@pledgewatch/common';
import type { AuditReader } from '../state.ts';
import { later, type Db } from './db.ts';

/** Appends audit records inside a transaction the caller holds. */
export interface AuditWriter {
  /** Starts a new pledge's chain with its registration (the whole pledge as registered). */
  register(pledge: Pledge): void;
  /** Appends one record to its pledge's chain; throws when the pledge has no head. */
  append(entry: AuditEntry): void;
  /** Appends the same fact (a new price) to the chain of every pledge of the commodity; returns how many. */
  appendToCommodity(commodity: string, entry: Omit<AuditEntry, 'pledgeId'>): number;
  /**
   * Appends the same fact (a new FX rate between base and quote) to the chain of every pledge whose
   * valuation converts between the two at its commodity's current price; returns how many.
   */
  appendToCurrencyPair(base: string, quote: string, entry: Omit<AuditEntry, 'pledgeId'>): number;
}

interface HeadRow {
  pledge_id: string;
  seq: number;
  hash: string;
}

interface RecordRow {
  pledge_id: string;
  seq: number;
  at: string;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export function missingHead(pledgeId: string): Error {
  return new Error(
    `audit: pledge ${pledgeId} has no audit head (no such pledge, or the audit tables were altered: run pledgewatch verify-audit)`,
  );
}

export function auditWriter(db: Db): AuditWriter {
  const headOf = db.prepare<[string], AuditHead>('SELECT seq, hash FROM audit_heads WHERE pledge_id = ?');
  const insertHead = db.prepare<[string, string, string, string]>(
    'INSERT INTO audit_heads (pledge_id, commodity, currency, seq, hash) VALUES (?, ?, ?, 0, ?)',
  );
  const insert = db.prepare<[string, number, string, string, string, string, string]>(
    'INSERT INTO audit_records (pledge_id, seq, at, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const moveHead = db.prepare<[number, string, string]>('UPDATE audit_heads SET seq = ?, hash = ? WHERE pledge_id = ?');
  const ofCommodity = db.prepare<[string], HeadRow>('SELECT pledge_id, seq, hash FROM audit_heads WHERE commodity = ? ORDER BY pledge_id');
  const ofPair = db.prepare<[{ base: string; quote: string }], HeadRow>(
    `SELECT h.pledge_id, h.seq, h.hash FROM audit_heads h JOIN prices p ON p.commodity = h.commodity
     WHERE (json_extract(p.body, '$.currency') = @base AND h.currency = @quote)
        OR (json_extract(p.body, '$.currency') = @quote AND h.currency = @base)
     ORDER BY h.pledge_id`,
  );

  /** `data` is the entry's data as JSON text, serialised once for a fact recorded in many chains. */
  const write = (head: AuditHead, entry: AuditEntry, data: string) => {
    const r = nextAuditRecord(head, entry);
    insert.run(r.pledgeId, r.seq, r.at, r.type, data, r.prevHash, r.hash);
    moveHead.run(r.seq, r.hash, r.pledgeId);
  };
  const appendToAll = (heads: HeadRow[], entry: Omit<AuditEntry, 'pledgeId'>): number => {
    const data = JSON.stringify(entry.data);
    for (const h of heads) write({ seq: h.seq, hash: h.hash }, { ...entry, pledgeId: h.pledge_id }, data);
    return heads.length;
  };

  return {
    register: (pledge) => {
      insertHead.run(pledge.id, pledge.commodity, pledge.loan.currency, EMPTY_AUDIT_HEAD.hash);
      write(EMPTY_AUDIT_HEAD, { pledgeId: pledge.id, at: pledge.createdAt, type: 'pledge.registered', data: pledge }, JSON.stringify(pledge));
    },
    append: (entry) => {
      const head = headOf.get(entry.pledgeId);
      if (head === undefined) throw missingHead(entry.pledgeId);
      write(head, entry, JSON.stringify(entry.data));
    },
    appendToCommodity: (commodity, entry) => appendToAll(ofCommodity.all(commodity), entry),
    appendToCurrencyPair: (base, quote, entry) => appendToAll(ofPair.all({ base, quote }), entry),
  };
}

type AuditReads = Omit<AuditReader, 'close'>;

export function auditReads(db: Db): AuditReads {
  const pledges = db
    .prepare<[], string>('SELECT id FROM pledges UNION SELECT pledge_id FROM audit_heads UNION SELECT pledge_id FROM audit_records ORDER BY 1')
    .pluck();
  const headOf = db.prepare<[string], AuditHead>('SELECT seq, hash FROM audit_heads WHERE pledge_id = ?');
  const records = db.prepare<[string, number, number], RecordRow>(
    'SELECT pledge_id, seq, at, type, data, prev_hash, hash FROM audit_records WHERE pledge_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  return {
    listAuditedPledges: () => later(() => pledges.all()),
    getAuditHead: (pledgeId) => later(() => headOf.get(pledgeId) ?? null),
    auditRecords: (pledgeId, after, limit) => later(() => records.all(pledgeId, after, limit).map(toStored)),
  };
}

function toStored(r: RecordRow): StoredAuditRecord {
  return { pledgeId: r.pledge_id, seq: r.seq, at: r.at, type: r.type, data: r.data, prevHash: r.prev_hash, hash: r.hash };
}

/**
 * The audit trail of a state database opened read-only, for `pledgewatch verify-audit`: it never
 * migrates or writes, so it can check a copy, or a database the central side has open.
 */
export function openSqliteAuditReader(path: string): AuditReader {
  let db: Db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`cannot open ${path} read-only: ${(err as Error).message}`, { cause: err });
  }
  try {
    const tables = db
      .prepare<[], string>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_records', 'audit_heads', 'pledges')`)
      .pluck()
      .all();
    if (tables.length < 3) throw new Error(`${path} has no audit trail (tables audit_records, audit_heads and pledges): not a PledgeWatch state database of this version`);
    return {
      ...auditReads(db),
      close: () =>
        later(() => {
          db.close();
        }),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
