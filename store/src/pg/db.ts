/**
 * The PostgreSQL connection pool the adapters share: bounded, migrated at open, with one way to run
 * a transaction.
 */
import pg from 'pg';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
export type Queryable = Pick<pg.ClientBase, 'query'>;

export interface PgOptions {
  /** postgres://user:password@host:5432/database (libpq-style query parameters such as sslmode are honoured). */
  url: string;
  /** Connections this process may hold at most (default 10). */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 10;

/**
 * Lock keys (pg_advisory_xact_lock, database-wide). Held until the holder's transaction ends, so
 * they need no unlocking and a crashed client cannot leave one behind.
 */
export const LOCKS = {
  /** Schema migration: two processes opening a new database at once must not both migrate. */
  migrate: 0x70770001,
  /**
   * Every writer of alerts and the event outbox. A bigserial value is taken when a row is inserted but
   * becomes visible when its transaction commits, so two concurrent writers could commit seq 8 before
   * seq 7 and a reader between the two commits would move its cursor past 7 for ever. Writers holding
   * this lock until commit take seqs in commit order, and eventsAfter never skips an event. It also
   * makes the read-then-write on an alert's condition safe against another process. Every writer that
   * appends audit records to several pledges' chains (or locks a pledge row before its audit head) takes
   * it first, so their head locks never deadlock (see pg/audit.ts).
   */
  outbox: 0x70770002,
  /**
   * Held for as long as a process runs ingest (a session lock, pg_try_advisory_lock, on a connection of
   * its own; see singleton.ts): per-pledge state must live in one ingest at a time.
   */
  ingest: 0x70770003,
  /** With hashtext(pledge id) as the second key: StateStore.exclusivePledge (a release's check and write). */
  pledge: 0x70770004,
} as const;

/** A pool on `opts.url` with the given components migrated, in order, each in its own transaction. */
export async function openPool(opts: PgOptions, components: readonly { component: string; migrations: readonly string[] }[]): Promise<Pool> {
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? DEFAULT_POOL_SIZE });
  // An idle connection the server dropped reports here; without a listener the process would crash.
  // The pool discards that connection and the next query opens a fresh one.
  pool.on('error', () => {});
  try {
    for (const { component, migrations } of components) await migrate(pool, component, migrations);
    return pool;
  } catch (err) {
    await pool.end();
    throw err;
  }
}

/** Applies the migrations the database lacks, in one transaction so a failure leaves the old schema. */
export async function migrate(pool: Pool, component: string, migrations: readonly string[]): Promise<void> {
  await transaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.migrate]);
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component  TEXT NOT NULL,
      version    INTEGER NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`);
    const { rows } = await c.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations WHERE component = $1',
      [component],
    );
    const have = rows[0]?.v ?? 0;
    if (have > migrations.length) {
      throw new Error(`${component} schema is at version ${have}, newer than this program knows (${migrations.length})`);
    }
    for (let version = have + 1; version <= migrations.length; version++) {
      await c.query(migrations[version - 1] as string);
      await c.query('INSERT INTO schema_migrations (component, version) VALUES ($1, $2)', [component, version]);
    }
  });
}

/** Runs `work` in a transaction on one pooled connection: committed if it returns, rolled back if it throws. */
export async function transaction<T>(pool: Pool, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is not given back to the pool.
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Takes the outbox writers' lock for the rest of the transaction (see LOCKS.outbox). */
export async function lockOutbox(client: Client): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.outbox]);
}

/** Whether `err` is PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
