/**
 * PostgreSQL for test suites (`@pledgewatch/store/testing`): the server .ci/run started
 * (PW_TEST_DATABASE_URL), or a private cluster of the suite's own. Every database handed out is new
 * (CREATE DATABASE, random name) and dropped at close. Test support only: no production code imports it.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { findPostgres, postgresDatabaseName, startPostgres, type Availability, type ServerProcess } from '@pledgewatch/common/testing-servers';

const shared = process.env.PW_TEST_DATABASE_URL;
const usingShared = shared !== undefined && shared !== '';

/** A shared server needs no binary; without one, the suite needs `postgres` (findPostgres throws in CI). */
export const postgresAvailable: Availability | { ok: true } = usingShared ? { ok: true } : findPostgres();

export interface PostgresForTests {
  /** Creates a fresh database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Drops the databases made here and stops a server of the suite's own. */
  close(): Promise<void>;
}

/** The server URL with another database in its path (credentials and parameters kept). */
function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function postgresForTests(): Promise<PostgresForTests> {
  let server: ServerProcess | null = null;
  let base: string;
  if (usingShared) {
    base = shared;
  } else {
    const found = findPostgres();
    if (!found.ok) throw new Error(found.reason);
    server = await startPostgres(found.bin);
    base = `${server.url}/postgres`;
  }
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  const made: string[] = [];
  return {
    createDatabase: async () => {
      const name = postgresDatabaseName();
      await admin.query(`CREATE DATABASE ${name}`);
      made.push(name);
      return withDatabase(base, name);
    },
    close: async () => {
      try {
        for (const name of made) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
        await server?.remove();
      }
    },
  };
}

/**
 * Raw SQL on a SQLite state file, bypassing the store: for suites that play the attacker with write
 * access to the database (editing, inserting and deleting audit records).
 */
export function withRawSqlite<T>(path: string, work: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}
