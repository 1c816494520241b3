/** What only the SQLite adapters promise: their file format, migrations and sharing a file between processes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteSeries, openSqliteState } from '../src/index.ts';
import { migrate, openDatabase } from '../src/sqlite/db.ts';
import { AUDIT_MIGRATIONS, SERIES_MIGRATIONS, STATE_MIGRATIONS, VALUATION_MIGRATIONS } from '../src/sqlite/migrations.ts';
import { CHANGE_MIGRATIONS } from '../src/sqlite/state-changes.ts';
import { INGEST_MIGRATIONS } from '../src/sqlite/state-ingest.ts';
import { batch, epc, pledge, state, T0, tag } from './fixtures.ts';

describe('sqlite files', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-sqlite-'));
    file = path.join(dir, 'pledgewatch.sqlite');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const migrations = (): { component: string; version: number }[] => {
    const raw = new Database(file, { readonly: true });
    try {
      return raw.prepare('SELECT component, version FROM schema_migrations ORDER BY component, version').all() as {
        component: string;
        version: number;
      }[];
    } finally {
      raw.close();
    }
  };

  it('puts state and series in one WAL file, each migrated once', async () => {
    const state = openSqliteState({ path: file });
    const series = openSqliteSeries({ path: file });
    await state.createPledge(pledge({ id: 'p1' }));
    await series.write([{ measurement: 'm', tags: { pledge: 'p1' }, fields: { v: 1 }, time: T0 }]);
    await Promise.all([state.close(), series.close()]);

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const expected = [
      ...AUDIT_MIGRATIONS.map((_, i) => ({ component: 'audit', version: i + 1 })),
      ...CHANGE_MIGRATIONS.map((_, i) => ({ component: 'changes', version: i + 1 })),
      ...INGEST_MIGRATIONS.map((_, i) => ({ component: 'ingest', version: i + 1 })),
      ...SERIES_MIGRATIONS.map((_, i) => ({ component: 'series', version: i + 1 })),
      ...STATE_MIGRATIONS.map((_, i) => ({ component: 'state', version: i + 1 })),
      ...VALUATION_MIGRATIONS.map((_, i) => ({ component: 'valuation', version: i + 1 })),
    ];
    expect(migrations()).toEqual(expected);

    const again = openSqliteState({ path: file });
    await again.close();
    expect(migrations()).toEqual(expected);
  });

  it('refuses a database migrated by a newer program', () => {
    openDatabase(file, 'state').close();
    const raw = new Database(file);
    raw.prepare("INSERT INTO schema_migrations (component, version, applied_at) VALUES ('state', 99, 'x')").run();
    raw.close();
    expect(() => openSqliteState({ path: file })).toThrow(/newer/);
  });

  it('applies a failing set of migrations not at all', () => {
    const db = new Database(file);
    expect(() => migrate(db, 'state', ['CREATE TABLE first (x)', 'THIS IS NOT SQL'])).toThrow();
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'first'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBe(0);
    db.close();
  });

  it('lets two processes share the file: writes are seen, EPCs stay unique', async () => {
    const ingest = openSqliteState({ path: file });
    const api = openSqliteState({ path: file });
    try {
      await api.createPledge(pledge({ id: 'p1', epcs: [epc(1)] }));
      expect((await ingest.listAllPledges()).map((p) => p.id)).toEqual(['p1']);
      await ingest.commitBatch(batch('gw-1', 1));
      await ingest.checkpoint(state([tag(epc(1))], [], [batch('gw-1', 1)]));
      expect(await api.getTags([epc(1)])).toEqual([tag(epc(1))]);
      expect(await api.commitBatch(batch('gw-1', 1))).toBe(false);
      const results = await Promise.allSettled([
        api.createPledge(pledge({ id: 'p2', epcs: [epc(2)] })),
        ingest.createPledge(pledge({ id: 'p3', tenant: 'bank-b', epcs: [epc(2)] })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    } finally {
      await Promise.all([ingest.close(), api.close()]);
    }
  });

  it('gets more tags in one call than SQLite has bind variables', async () => {
    const store = openSqliteState({ path: file });
    try {
      const tags = Array.from({ length: 40_000 }, (_, i) => tag(epc(i)));
      await store.checkpoint(state(tags));
      expect(await store.getTags(tags.map((t) => t.epc))).toHaveLength(40_000);
    } finally {
      await store.close();
    }
  });
});
