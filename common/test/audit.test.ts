import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS,
  auditHash,
  EMPTY_AUDIT_HEAD,
  nextAuditRecord,
  verifyAuditChain,
  type AuditHead,
  type AuditRecord,
  type StoredAuditRecord,
} from '../src/index.ts';

const at = (n: number) => new Date(Date.UTC(2026, 2, 1, 8, 0, n)).toISOString();

/** A chain of `n` records as a store holds it (data as JSON text), and its head. */
function chain(n: number): { rows: StoredAuditRecord[]; head: AuditHead } {
  let head = EMPTY_AUDIT_HEAD;
  const rows: StoredAuditRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const r = nextAuditRecord(head, { pledgeId: 'PL-1', at: at(i), type: i === 1 ? 'pledge.registered' : 'loan.changed', data: { to: i * 1000, note: 'ü' } });
    rows.push({ ...r, data: JSON.stringify(r.data) });
    head = { seq: r.seq, hash: r.hash };
  }
  return { rows, head };
}

const kinds = (problems: { kind: string }[]) => problems.map((p) => p.kind);

describe('audit chain', () => {
  it('numbers records from 1, links each to the one before, and hashes the canonical form', () => {
    const first = nextAuditRecord(EMPTY_AUDIT_HEAD, { pledgeId: 'PL-1', at: at(0), type: 'pledge.registered', data: { b: 1, a: 2 } });
    expect(first).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    // Member order is not part of the value: the same record written another way has the same hash.
    expect(auditHash({ ...first, data: { a: 2, b: 1 } })).toBe(first.hash);
    expect(auditHash({ ...first, data: { a: 2, b: 1.5 } })).not.toBe(first.hash);
    const second: AuditRecord = nextAuditRecord(first, { pledgeId: 'PL-1', at: at(1), type: 'loan.changed', data: {} });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
  });

  it('finds nothing wrong with an intact chain, however its JSON text is formatted', () => {
    const { rows, head } = chain(5);
    expect(verifyAuditChain('PL-1', rows, head)).toEqual([]);
    const reformatted = rows.map((r) => ({ ...r, data: JSON.stringify(JSON.parse(r.data), null, 2) }));
    expect(verifyAuditChain('PL-1', reformatted, head)).toEqual([]);
    expect(verifyAuditChain('PL-1', [], EMPTY_AUDIT_HEAD)).toEqual([]);
  });

  it('reports an edited record alone, by its seq', () => {
    const { rows, head } = chain(5);
    rows[2] = { ...rows[2]!, data: rows[2]!.data.replace('3000', '3001') };
    const problems = verifyAuditChain('PL-1', rows, head);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'edited', seq: 3 });
    expect(problems[0]?.message).toMatch(/^record 3 edited: hash mismatch/);
    rows[3] = { ...rows[3]!, data: '{"to":' };
    expect(verifyAuditChain('PL-1', rows, head).map((p) => p.message)).toContain('record 4 edited: its data is not valid JSON');
  });

  it('reports a record rewritten with a fresh hash at the next record, whose link breaks', () => {
    const { rows, head } = chain(4);
    const forged = nextAuditRecord({ seq: 1, hash: rows[0]!.hash }, { pledgeId: 'PL-1', at: at(2), type: 'loan.changed', data: { to: 1 } });
    rows[1] = { ...forged, data: JSON.stringify(forged.data) };
    expect(verifyAuditChain('PL-1', rows, head)).toEqual([expect.objectContaining({ kind: 'link', seq: 3 })]);
  });

  it('reports deleted records as a seq gap, and a deleted tail against the head', () => {
    const { rows, head } = chain(6);
    const gap = verifyAuditChain('PL-1', [...rows.slice(0, 2), ...rows.slice(4)], head);
    expect(gap).toEqual([expect.objectContaining({ kind: 'gap', seq: 5, message: 'record 5: seq gap after 2 (records 3–4 deleted)' })]);
    const tail = verifyAuditChain('PL-1', rows.slice(0, 4), head);
    expect(tail.map((p) => p.message)).toEqual(['tail deleted: head says 6 but the chain ends at 4']);
    expect(kinds(verifyAuditChain('PL-1', [], head))).toEqual(['tail_deleted']);
  });

  it('reports an inserted record: a renumbered chain, or a seq that is not the next one', () => {
    const { rows, head } = chain(4);
    // A forger who knows the algorithm inserts a well-formed record 3 and shifts the rest up.
    const forged = nextAuditRecord({ seq: 2, hash: rows[1]!.hash }, { pledgeId: 'PL-1', at: at(3), type: 'release.recorded', data: {} });
    const shifted = rows.slice(2).map((r) => ({ ...r, seq: r.seq + 1 }));
    const problems = verifyAuditChain('PL-1', [...rows.slice(0, 2), { ...forged, data: '{}' }, ...shifted], { seq: 5, hash: shifted.at(-1)!.hash });
    expect(problems[0]).toMatchObject({ kind: 'edited', seq: 4 });
    expect(problems).toContainEqual(expect.objectContaining({ kind: 'link', seq: 4 }));
    // SQLite stores 2.5 in an INTEGER column as it is: it sorts between 2 and 3.
    const between = verifyAuditChain('PL-1', [...rows.slice(0, 2), { ...rows[1]!, seq: 2.5 }, ...rows.slice(2)], head);
    expect(kinds(between)).toEqual(['edited', 'out_of_order', 'out_of_order']);
  });

  it('compares the end of the chain with its head', () => {
    const { rows, head } = chain(3);
    expect(kinds(verifyAuditChain('PL-1', rows, { seq: 2, hash: rows[1]!.hash }))).toEqual(['past_head']);
    expect(kinds(verifyAuditChain('PL-1', rows, { seq: 3, hash: AUDIT_GENESIS }))).toEqual(['head_mismatch']);
    expect(verifyAuditChain('PL-1', rows, null).map((p) => p.message)).toEqual(['no head row: the audit heads table was altered']);
    expect(verifyAuditChain('PL-1', [], null).map((p) => p.message)).toEqual(['no audit head and no records: the chain was deleted']);
    expect(head.seq).toBe(3);
  });

  it('keeps the report short when every record of a long chain is wrong', () => {
    const { rows, head } = chain(120);
    const problems = verifyAuditChain('PL-1', rows.map((r) => ({ ...r, at: at(0) })), head);
    expect(problems).toHaveLength(51);
    expect(problems.at(-1)?.message).toBe('… and 70 more problems');
  });
});
