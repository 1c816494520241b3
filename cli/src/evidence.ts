/**
 * Checking evidence offline: every audit chain of a state database (`pledgewatch verify-audit`) and a
 * saved certificate against public keys (`pledgewatch verify-certificate`). Each says exactly what is
 * wrong, so an auditor can point at the record.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditChainCheck, parsePublicKeys, PwError, type PublicKeys } from '@pledgewatch/common';
import type { AuditReader } from '@pledgewatch/store';

/** Records read per query: a chain may hold millions (a price per pledge per tick). */
const PAGE = 1_000;

export interface AuditReport {
  pledges: number;
  failed: number;
}

/**
 * Checks the chain of every pledge (or of one) and writes a line per pledge, OK or FAILED, with a line
 * per problem under a failed one. Throws PwError NOT_FOUND for a `pledgeId` the database does not know.
 */
export async function verifyAuditTrail(reader: AuditReader, write: (line: string) => void, pledgeId?: string): Promise<AuditReport> {
  const known = await reader.listAuditedPledges();
  if (pledgeId !== undefined && !known.includes(pledgeId)) {
    throw new PwError('NOT_FOUND', `no pledge, audit head or audit record with id ${pledgeId} in this database`);
  }
  const ids = pledgeId === undefined ? known : [pledgeId];
  const width = Math.max(0, ...ids.map((id) => id.length));
  let failed = 0;
  for (const id of ids) {
    const check = new AuditChainCheck(id);
    for (let after = 0; ; ) {
      const page = await reader.auditRecords(id, after, PAGE);
      for (const r of page) check.add(r);
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) break;
      after = last.seq;
    }
    const head = await reader.getAuditHead(id);
    const problems = check.finish(head);
    const summary = `${check.count} record${check.count === 1 ? '' : 's'}, head ${head === null ? 'missing' : `${head.seq} ${head.hash.slice(0, 12)}…`}`;
    write(`${id.padEnd(width)}  ${problems.length === 0 ? 'OK    ' : 'FAILED'}  ${summary}`);
    for (const p of problems) write(`  ${p.message}`);
    if (problems.length > 0) failed++;
  }
  write(`checked ${ids.length} pledge${ids.length === 1 ? '' : 's'}: ${ids.length - failed} OK, ${failed} failed`);
  return { pledges: ids.length, failed };
}

/** Public keys from files (PEM, JWK, JWK set, a saved GET /v1/keys) and URLs (GET /v1/keys); throws naming the source. */
export async function loadPublicKeys(files: readonly string[], urls: readonly string[]): Promise<PublicKeys> {
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PwError('VALIDATION', `cannot read key file ${file}: ${(err as Error).message}`);
    }
    for (const [id, key] of parseKeys(text, file)) keys.set(id, key);
  }
  for (const url of urls) {
    let text: string;
    try {
      const res = await fetch(url);
      text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      throw new PwError('VALIDATION', `cannot fetch keys from ${url}: ${(err as Error).message}`);
    }
    for (const [id, key] of parseKeys(text, url)) keys.set(id, key);
  }
  return keys;
}

function parseKeys(text: string, where: string): PublicKeys {
  try {
    return parsePublicKeys(text, where);
  } catch (err) {
    throw new PwError('VALIDATION', (err as Error).message);
  }
}
