/** What the SQLite schema itself guarantees about alerts, whatever code writes to the file. */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { openSqliteState } from '../src/index.ts';
import { alert, batch, pledge } from './fixtures.ts';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-alerts-');
});
afterEach(() => dir.remove());

it('keeps one unresolved alert per condition across connections racing to open it', async () => {
  const file = dir.file('state.db');
  const a = openSqliteState({ path: file });
  const b = openSqliteState({ path: file });
  try {
    await a.createPledge(pledge({ id: 'p1' }));
    // Two ingest instances that each received a different batch showing the same condition.
    const results = await Promise.all([
      a.commitBatch(batch('gw-1', 1), [{ kind: 'open', alert: alert({ id: 'from-a', pledgeId: 'p1' }) }]),
      b.commitBatch(batch('gw-2', 1), [{ kind: 'open', alert: alert({ id: 'from-b', pledgeId: 'p1' }) }]),
    ]);
    expect(results).toEqual([true, true]);
    const active = await a.listActiveAlerts();
    expect(active).toHaveLength(1);
    expect(active[0]?.occurrences).toBe(2);
  } finally {
    await a.close();
    await b.close();
  }
});

it('refuses a second unresolved alert for a condition even from raw SQL', async () => {
  const file = dir.file('state.db');
  const store = openSqliteState({ path: file });
  await store.createPledge(pledge({ id: 'p1' }));
  await store.close();
  const raw = new Database(file);
  try {
    const insert = raw.prepare(
      `INSERT INTO alerts (id, tenant, pledge_id, type, subject, status, opened_at, updated_at, body)
       VALUES (?, 'bank-a', 'p1', 'DAMAGE', 'zone:A1', ?, 0, 0, '{}')`,
    );
    insert.run('x1', 'open');
    expect(() => insert.run('x2', 'acknowledged')).toThrow(/UNIQUE/);
    insert.run('x3', 'resolved');
    insert.run('x4', 'resolved');
  } finally {
    raw.close();
  }
});
