/** What ingest records about how it runs: the number of shards (see StateStore.recordIngestShards). */
import type { StateStore } from '../state.ts';
import type { Pool } from './db.ts';

/** Component 'ingest', migrated after 'changes'. */
export const PG_INGEST_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ingest_shards (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    shards INTEGER NOT NULL
  );
  `,
];

export function ingestOps(pool: Pool): Pick<StateStore, 'recordIngestShards'> {
  return {
    // One statement: the CTE reads the row as it was before the upsert. (Ingest runs once per
    // database, under its lock, so two of these never race.)
    recordIngestShards: async (count) => {
      const { rows } = await pool.query<{ before: number | null }>(
        `WITH before AS (SELECT shards FROM ingest_shards WHERE id = 1)
         INSERT INTO ingest_shards (id, shards) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET shards = excluded.shards
         RETURNING (SELECT shards FROM before) AS before`,
        [count],
      );
      return rows[0]?.before ?? null;
    },
  };
}
