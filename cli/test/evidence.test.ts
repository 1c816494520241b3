/**
 * Evidence checked as an auditor would: `pledgewatch verify-audit` and `verify-certificate` as real
 * child processes, on a data dir someone with write access has tampered with, and on certificates
 * fetched from a running central side that was restarted in between.
 */
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nextAuditRecord, type Pledge } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { openPgState, openSqliteState, type StateStore } from '@pledgewatch/store';
import { postgresAvailable, postgresForTests, withRawSqlite } from '@pledgewatch/store/testing';
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copperPledge } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../bin/pledgewatch.js', import.meta.url));
const T0 = Date.parse('2026-03-01T08:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pledge(id: string, n: number): Pledge {
  const body = copperPledge({ id, siteId: 'site-1', items: [{ epc: `3034257BF7194E40000${String(n).padStart(5, '0')}`, quantity: 2.5 }] });
  return { ...body, items: body.items ?? [], tenant: 'bank-a', scales: [], quantityTolerance: 0.02, createdAt: at(0) };
}

/** Each pledge registered, then four loan changes: a chain of five records. */
async function fiveRecordChains(store: StateStore, ids: readonly string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    await store.createPledge(pledge(id, i));
    for (let n = 1; n <= 4; n++) await store.updatePledgeLoan('bank-a', id, 1_000 * n, at(n));
  }
}

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-evidence-');
});
afterEach(() => dir.remove());

describe('pledgewatch verify-audit on a data dir', () => {
  const IDS = ['PL-DELETED', 'PL-EDITED', 'PL-INSERTED', 'PL-OK', 'PL-TAIL'];

  beforeEach(async () => {
    const store = openSqliteState({ path: dir.file('state.db') });
    await fiveRecordChains(store, IDS);
    await store.close();
  });

  it('passes intact chains, and names each edited, inserted and deleted record and a deleted tail', () => {
    expect(run(['verify-audit', '--data-dir', dir.path])).toMatchObject({ code: 0, stdout: expect.stringContaining('checked 5 pledges: 5 OK, 0 failed') as unknown });

    withRawSqlite(dir.file('state.db'), (db) => {
      db.prepare(`UPDATE audit_records SET data = replace(data, '"to":2000', '"to":20000') WHERE pledge_id = 'PL-EDITED' AND seq = 3`).run();
      db.prepare(`DELETE FROM audit_records WHERE pledge_id = 'PL-DELETED' AND seq = 3`).run();
      db.prepare(`DELETE FROM audit_records WHERE pledge_id = 'PL-TAIL' AND seq = 5`).run();
      // A forger who knows the algorithm: records from 3 on move up one, a well-formed record 3 goes
      // between, linked to record 2, and the head follows.
      const two = db.prepare<[], { hash: string }>(`SELECT hash FROM audit_records WHERE pledge_id = 'PL-INSERTED' AND seq = 2`).get();
      db.prepare(`UPDATE audit_records SET seq = seq + 1000 WHERE pledge_id = 'PL-INSERTED' AND seq >= 3`).run();
      db.prepare(`UPDATE audit_records SET seq = seq - 999 WHERE pledge_id = 'PL-INSERTED' AND seq > 1000`).run();
      const forged = nextAuditRecord({ seq: 2, hash: two?.hash ?? '' }, { pledgeId: 'PL-INSERTED', at: at(2), type: 'loan.changed', data: { from: 1000, to: 0, currency: 'USD' } });
      db.prepare('INSERT INTO audit_records (pledge_id, seq, at, type, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        forged.pledgeId, forged.seq, forged.at, forged.type, JSON.stringify(forged.data), forged.prevHash, forged.hash,
      );
      db.prepare(`UPDATE audit_heads SET seq = 6 WHERE pledge_id = 'PL-INSERTED'`).run();
    });

    const out = run(['verify-audit', '--data-dir', dir.path]);
    expect(out.code).toBe(1);
    const lines = out.stdout.split('\n');
    const block = (id: string) => lines.slice(lines.findIndex((l) => l.startsWith(`${id} `))).slice(0, 4).join('\n');
    expect(block('PL-OK')).toMatch(/^PL-OK +OK +5 records, head 5 [0-9a-f]{12}…/);
    expect(block('PL-EDITED')).toMatch(/^PL-EDITED +FAILED .*\n {2}record 3 edited: hash mismatch \(stored [0-9a-f]{12}…, computed [0-9a-f]{12}…\)\nPL-INSERTED/);
    expect(block('PL-DELETED')).toMatch(/^PL-DELETED +FAILED +4 records, head 5 .*\n {2}record 4: seq gap after 2 \(record 3 deleted\)\nPL-EDITED/);
    expect(block('PL-INSERTED')).toMatch(/FAILED +6 records, head 6 .*\n {2}record 4 edited: hash mismatch .*\n {2}record 4: prevHash mismatch, it does not link to record 3/);
    expect(block('PL-TAIL')).toMatch(/^PL-TAIL +FAILED +4 records, head 5 .*\n {2}tail deleted: head says 5 but the chain ends at 4\n/);
    expect(out.stdout).toContain('checked 5 pledges: 1 OK, 4 failed');

    expect(run(['verify-audit', '--data-dir', dir.path, '--pledge', 'PL-OK'])).toMatchObject({ code: 0 });
    const unknown = run(['verify-audit', '--data-dir', dir.path, '--pledge', 'PL-NOPE']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('no pledge, audit head or audit record with id PL-NOPE') as unknown });
  }, 90_000);

  it('says so when there is no state database, and changes nothing it reads', () => {
    const before = readFileSync(dir.file('state.db'));
    expect(run(['verify-audit', '--data-dir', dir.path]).code).toBe(0);
    expect(readFileSync(dir.file('state.db')).equals(before)).toBe(true);
    const none = run(['verify-audit', '--data-dir', dir.file('nowhere')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`cannot open ${dir.file('nowhere/state.db')} read-only`);
  }, 60_000);
});

describe.skipIf(!postgresAvailable.ok)(suiteTitle('pledgewatch verify-audit on PostgreSQL', postgresAvailable), () => {
  it('finds an edited record in a PostgreSQL state database', async () => {
    const server = await postgresForTests();
    try {
      const url = await server.createDatabase();
      const store = await openPgState({ url });
      await fiveRecordChains(store, ['PL-A', 'PL-B']);
      await store.close();
      expect(run(['verify-audit', '--database-url', url]).stdout).toContain('checked 2 pledges: 2 OK, 0 failed');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`UPDATE audit_records SET at = '2020-01-01T00:00:00.000Z' WHERE pledge_id = 'PL-B' AND seq = 2`);
      await client.end();
      const out = run(['verify-audit', '--database-url', url]);
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/PL-B +FAILED .*\n {2}record 2 edited: hash mismatch/);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('certificates from a running central side', () => {
  /** `pledgewatch start` on the data dir until `work` is done; returns what `work` returned. */
  async function withCentral<T>(work: (apiUrl: string) => Promise<T>): Promise<T> {
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dir.path, '--http-port', '0', '--mqtt-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      return await work(await waitFor('the API URL in the start log', () => /"apiUrl":"([^"]+)"/.exec(out)?.[1], 20_000));
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }

  it('signs with a key made at first start and kept across restarts; a flipped byte fails verification', async () => {
    const key = run(['apikey', 'create', '--tenant', 'bank-cli', '--data-dir', dir.path]).stdout.trim().split('\n').at(-1) ?? '';
    expect(run(['gateway', 'create', 'gw-cli', '--site', 'site-1', '--data-dir', dir.path]).code).toBe(0);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const first = await withCentral(async (api) => {
      const created = await fetch(`${api}/v1/pledges`, { method: 'POST', headers, body: JSON.stringify(copperPledge({ id: 'PL-CERT', siteId: 'site-1' })) });
      expect(created.status).toBe(201);
      const certificate = await (await fetch(`${api}/v1/pledges/PL-CERT/certificate`, { headers })).text();
      return { certificate, keys: await (await fetch(`${api}/v1/keys`)).text() };
    });
    expect(statSync(dir.file('signing-key.pem')).mode & 0o777).toBe(0o600);
    writeFileSync(dir.file('cert.json'), first.certificate);
    writeFileSync(dir.file('keys.json'), first.keys);

    // After a restart: the same key, and the old certificate still checks against what it publishes now.
    await withCentral(async (api) => {
      expect(await (await fetch(`${api}/v1/keys`)).text()).toBe(first.keys);
      const online = run(['verify-certificate', dir.file('cert.json'), '--keys-url', `${api}/v1/keys`]);
      expect(online).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK: certificate cert_\S+ of pledge PL-CERT, issued \S+, signed by key \S+/) as unknown });
    });

    expect(run(['verify-certificate', dir.file('cert.json'), '--key', dir.file('keys.json')]).code).toBe(0);
    // On the central machine, its own key serves when none is given.
    expect(run(['verify-certificate', dir.file('cert.json'), '--data-dir', dir.path])).toMatchObject({ code: 0, stderr: expect.stringContaining('signing-key.pem') as unknown });

    const failure = (text: string, keyFile = dir.file('keys.json')) => {
      writeFileSync(dir.file('bad.json'), text);
      const r = run(['verify-certificate', dir.file('bad.json'), '--key', keyFile]);
      expect(r.code).toBe(1);
      return r.stdout.trim();
    };
    const at = first.certificate.indexOf('"borrower":"Test Metals"') + '"borrower":"T'.length;
    const flipped = Buffer.from(first.certificate);
    flipped[at] = (flipped[at] as number) ^ 0x01;
    expect(failure(flipped.toString())).toMatch(/^FAILED: bad signature: the certificate does not match its signature/);
    expect(failure(first.certificate.slice(0, -1))).toMatch(/^FAILED: malformed JSON: /);
    const otherKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(dir.file('other.pem'), otherKey);
    expect(failure(first.certificate, dir.file('other.pem'))).toMatch(/^FAILED: unknown key id \S+ \(keys given: \S+\)$/);

    expect(run(['verify-audit', '--data-dir', dir.path])).toMatchObject({ code: 0, stdout: expect.stringMatching(/PL-CERT +OK +1 record, head 1 /) as unknown });
  }, 90_000);
});
