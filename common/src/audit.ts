/**
 * The audit trail: every state-changing event of a pledge is a record of that pledge's hash chain.
 * A record's hash is SHA-256 over the canonical JSON of {pledgeId, seq, at, type, data, prevHash}, and
 * prevHash is the hash of the record before it (AUDIT_GENESIS for the first), so editing, inserting or
 * deleting a record breaks the chain from there on. Each pledge's head (last seq and hash) is kept
 * apart from the records, so a deleted tail shows too. Pure: the state-store adapters build records
 * with `nextAuditRecord`, the API serves them, and `pledgewatch verify-audit` checks them with
 * `AuditChainCheck`, all with the same functions.
 */
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import type { FxRate } from './fx.ts';
import type { Pledge, PriceRecord } from './pledge.ts';
import type { Release } from './releases.ts';

/** prevHash of a chain's first record. */
export const AUDIT_GENESIS = '0'.repeat(64);

/**
 * What the adapters record. Alert and status records are the outbox events (`data` = the event's data
 * with its `eventId`); the others are written by the store method that makes the change.
 */
export const AUDIT_TYPES = [
  'pledge.registered',
  'loan.changed',
  'release.recorded',
  'price.applied',
  'fx.applied',
  'alert.opened',
  'alert.updated',
  'alert.resolved',
  'pledge.status_changed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** A change to record: which pledge, when (the time the change carries), what, and its facts. */
export interface AuditEntry {
  pledgeId: string;
  at: string;
  type: string;
  data: unknown;
}

export interface AuditRecord extends AuditEntry {
  /** 1, 2, 3, … per pledge. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** The last record of a pledge's chain: seq 0 and AUDIT_GENESIS while it has none. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export const EMPTY_AUDIT_HEAD: AuditHead = Object.freeze({ seq: 0, hash: AUDIT_GENESIS });

/**
 * What each kind of change records, decided here once so every adapter writes the same (they only do
 * the SQL). Registration records the whole pledge as registered (see the adapters' `register`).
 */
export const auditEntry = {
  loanChanged: (pledge: Pledge, outstanding: number, at: string): AuditEntry => ({
    pledgeId: pledge.id,
    at,
    type: 'loan.changed',
    data: { from: pledge.loan.outstanding, to: outstanding, currency: pledge.loan.currency },
  }),
  /** `release` as stored (EPCs upper case). */
  released: (release: Release): AuditEntry => ({ pledgeId: release.pledgeId, at: release.createdAt, type: 'release.recorded', data: release }),
  /** An outbox event: its type, its webhook data and its id, which ties the record to what lenders received. */
  event: (e: { id: string; type: string; pledgeId: string; data: object; createdAt: string }): AuditEntry => ({
    pledgeId: e.pledgeId,
    at: e.createdAt,
    type: e.type,
    data: { eventId: e.id, ...e.data },
  }),
  /**
   * A new price, for the chain of every pledge of its commodity — only when it changes what pledges are
   * valued at (value, currency or unit): a feed re-sending the same price keeps it fresh, no more.
   */
  price: (price: PriceRecord, previous: PriceRecord | null): Omit<AuditEntry, 'pledgeId'> | null =>
    previous !== null && previous.price === price.price && previous.currency === price.currency && previous.unit === price.unit
      ? null
      : { at: price.at, type: 'price.applied', data: price },
  /** A new FX rate, for the chain of every pledge valued through it — only when the rate itself changed. */
  fxRate: (rate: FxRate, previous: FxRate | null): Omit<AuditEntry, 'pledgeId'> | null =>
    previous !== null && previous.rate === rate.rate ? null : { at: rate.at, type: 'fx.applied', data: rate },
};

/** The hash of a record: SHA-256 (hex) of the canonical JSON of everything but the hash itself. */
export function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(canonicalJson({ pledgeId: r.pledgeId, seq: r.seq, at: r.at, type: r.type, data: r.data, prevHash: r.prevHash }));
}

/** The record that follows `head` in its pledge's chain. */
export function nextAuditRecord(head: AuditHead, entry: AuditEntry): AuditRecord {
  const unhashed = { pledgeId: entry.pledgeId, seq: head.seq + 1, at: entry.at, type: entry.type, data: entry.data, prevHash: head.hash };
  return { ...unhashed, hash: auditHash(unhashed) };
}

/** A record as stored, `data` being the JSON text in the database: what the verifier reads. */
export interface StoredAuditRecord extends Omit<AuditRecord, 'data'> {
  data: string;
}

export type AuditProblemKind = 'edited' | 'unreadable' | 'gap' | 'out_of_order' | 'link' | 'tail_deleted' | 'past_head' | 'head_mismatch' | 'no_head';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The record it is about; null for the head. */
  seq: number | null;
  message: string;
}

/** Problems kept per chain; a renumbered chain would otherwise report each of its records. */
const MAX_PROBLEMS = 50;
const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * Checks one pledge's chain as it is read, record by record in seq order (a chain may hold millions):
 * `add` each stored record, then `finish` with the stored head. Each record is checked against its own
 * hash and against the record before it, so an edited record is reported alone and the rest still link.
 */
export class AuditChainCheck {
  private prev: AuditHead = EMPTY_AUDIT_HEAD;
  private readonly found: AuditProblem[] = [];
  private dropped = 0;
  /** Records seen. */
  count = 0;

  constructor(readonly pledgeId: string) {}

  add(r: StoredAuditRecord): void {
    this.count++;
    let data: unknown;
    try {
      data = JSON.parse(r.data);
    } catch {
      this.report('unreadable', r.seq, `record ${r.seq} edited: its data is not valid JSON`);
      data = undefined;
    }
    if (data !== undefined) {
      const computed = auditHash({ ...r, data });
      if (computed !== r.hash) {
        this.report('edited', r.seq, `record ${r.seq} edited: hash mismatch (stored ${short(r.hash)}, computed ${short(computed)})`);
      }
    }
    const expected = this.prev.seq + 1;
    if (r.seq !== expected) {
      if (Number.isInteger(r.seq) && r.seq > expected) {
        const missing = r.seq - 1 === expected ? `record ${expected}` : `records ${expected}–${r.seq - 1}`;
        this.report('gap', r.seq, `record ${r.seq}: seq gap after ${this.prev.seq} (${missing} deleted)`);
      } else {
        this.report('out_of_order', r.seq, `record ${r.seq}: unexpected seq after ${this.prev.seq} (a record was inserted or renumbered)`);
      }
    } else if (r.prevHash !== this.prev.hash) {
      this.report(
        'link',
        r.seq,
        `record ${r.seq}: prevHash mismatch, it does not link to ${this.prev.seq === 0 ? 'the chain start' : `record ${this.prev.seq}`} ` +
          `(a record was inserted or deleted before it, or the one before was rewritten)`,
      );
    }
    this.prev = { seq: r.seq, hash: r.hash };
  }

  /** Compares the end of the chain with the stored head (null: there is no head row) and returns every problem. */
  finish(head: AuditHead | null): AuditProblem[] {
    const last = this.prev;
    if (head === null) {
      this.report(
        'no_head',
        null,
        this.count === 0 ? 'no audit head and no records: the chain was deleted' : 'no head row: the audit heads table was altered',
      );
    } else if (head.seq > last.seq) {
      this.report('tail_deleted', null, `tail deleted: head says ${head.seq} but the chain ends at ${last.seq}`);
    } else if (head.seq < last.seq) {
      this.report('past_head', null, `records run past the head: head says ${head.seq} but the chain goes to ${last.seq}`);
    } else if (head.hash !== last.hash) {
      this.report('head_mismatch', null, `head hash does not match record ${last.seq} (the head or the last record was rewritten)`);
    }
    if (this.dropped === 0) return [...this.found];
    return [...this.found, { kind: this.found[0]?.kind ?? 'edited', seq: null, message: `… and ${this.dropped} more problems` }];
  }

  private report(kind: AuditProblemKind, seq: number | null, message: string): void {
    if (this.found.length < MAX_PROBLEMS) this.found.push({ kind, seq, message });
    else this.dropped++;
  }
}

/** Checks a whole chain held in memory. */
export function verifyAuditChain(pledgeId: string, records: Iterable<StoredAuditRecord>, head: AuditHead | null): AuditProblem[] {
  const check = new AuditChainCheck(pledgeId);
  for (const r of records) check.add(r);
  return check.finish(head);
}
