/**
 * A role only one process may play on a database at a time (ingest), held as a PostgreSQL session
 * advisory lock on a connection of its own: taken at start or refused at once, released at stop, and
 * released by the server if the process dies. Losing the connection loses the lock, so `lost` tells
 * the holder to stop before another process takes over.
 */
import pg from 'pg';
import { LOCKS } from './db.ts';

export interface SingleRole {
  /** Settles when the lock is gone without release() (connection lost): the holder must stop. */
  readonly lost: Promise<Error>;
  release(): Promise<void>;
}

export async function holdPgSingleRole(url: string, role: 'ingest'): Promise<SingleRole> {
  const client = new pg.Client({ connectionString: url, keepAlive: true, application_name: `pledgewatch-${role}` });
  let released = false;
  let markLost: (err: Error) => void = () => {};
  const lost = new Promise<Error>((resolve) => {
    markLost = resolve;
  });
  const onGone = (err?: Error) => {
    if (!released) markLost(new Error(`lost the ${role} lock: its PostgreSQL connection ended${err === undefined ? '' : ` (${err.message})`}`));
  };
  client.on('error', onGone);
  client.on('end', () => onGone());
  await client.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS[role]]);
    if (rows[0]?.ok !== true) {
      throw new Error(
        `another process already runs ${role} on this database (it holds PostgreSQL advisory lock ${LOCKS[role]}): ` +
          `run ${role} in one process per database, e.g. PW_ROLES=api in the others`,
      );
    }
  } catch (err) {
    released = true;
    await client.end();
    throw err;
  }
  return {
    lost,
    async release() {
      if (released) return;
      released = true;
      // Ending the session ends its advisory locks.
      await client.end();
    },
  };
}
