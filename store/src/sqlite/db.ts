/** Opening a SQLite database the way every adapter here needs it: WAL, busy timeout, migrated. */
import Database from 'better-sqlite3';
import { MIGRATIONS, type MigrationComponent } from './migrations.ts';
import { WriteLock } from './write-lock.ts';

export type Db = Database.Database;

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** The lock each connection's writes take first, when its opener was given one (see write-lock.ts). */
const writeLocks = new WeakMap<Db, WriteLock>();
/**
 * One WriteLock per shared buffer in each thread: two connections of a thread on one file (the state
 * and webhook stores) share its turn, so a write of one inside a write of the other runs in the outer
 * turn instead of waiting for itself.
 */
const locksByBuffer = new WeakMap<SharedArrayBuffer, WriteLock>();

export function openDatabase(path: string, component: MigrationComponent, writeLock?: SharedArrayBuffer): Db {
  const db = new Database(path);
  if (writeLock !== undefined) {
    let lock = locksByBuffer.get(writeLock);
    if (lock === undefined) locksByBuffer.set(writeLock, (lock = new WriteLock(writeLock)));
    writeLocks.set(db, lock);
  }
  try {
    // ':memory:' answers 'memory' here, which is fine: there is no other connection to share with.
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL can lose the last commits on power loss but never corrupts; ingest replays
    // from gateways' outboxes, so durability of the very last batch is not worth an fsync each.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    migrate(db, component, MIGRATIONS[component]);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * A write transaction (BEGIN IMMEDIATE): it takes the file's write lock at once rather than upgrading
 * a read lock half-way (which can fail with SQLITE_BUSY whatever the busy timeout), after the
 * connection's WriteLock, if it has one.
 */
export function writeTx<A extends unknown[], R>(db: Db, work: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(work);
  const lock = writeLocks.get(db);
  return lock === undefined ? (...args) => tx.immediate(...args) : (...args) => lock.run(() => tx.immediate(...args));
}

/** One writing statement outside writeTx (its own implicit transaction), in the connection's turn as well. */
export function writeRun<T>(db: Db, work: () => T): T {
  const lock = writeLocks.get(db);
  return lock === undefined ? work() : lock.run(work);
}

/** Applies the migrations `db` lacks, all in one transaction so a failure leaves the old schema. */
export function migrate(db: Db, component: MigrationComponent | 'valuation' | 'audit' | 'changes' | 'ingest', migrations: readonly string[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
  )`);
  const current = db.prepare<[string], number | null>('SELECT max(version) FROM schema_migrations WHERE component = ?').pluck();
  const record = db.prepare<[string, number, string]>(
    'INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)',
  );
  const apply = db.transaction(() => {
    // Read inside the write lock: two processes opening a new file at once must not both migrate.
    const have = current.get(component) ?? 0;
    if (have > migrations.length) {
      throw new Error(
        `${db.name}: ${component} schema is at version ${have}, newer than this program knows (${migrations.length})`,
      );
    }
    for (let version = have + 1; version <= migrations.length; version++) {
      db.exec(migrations[version - 1] as string);
      record.run(component, version, new Date().toISOString());
    }
  });
  apply.immediate();
}

/**
 * Runs synchronous database work behind a promise, so callers see the same asynchronous port as the
 * networked adapters, and a throw becomes a rejection instead of escaping synchronously.
 */
export function later<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}
