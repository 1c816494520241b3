/** What ingest records about how it runs: the number of shards (see StateStore.recordIngestShards). */
import type { StateStore } from '../state.ts';
import { later, writeTx, type Db } from './db.ts';

/** Component 'ingest', migrated by openSqliteState after 'changes'. */
export const INGEST_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ingest_shards (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    shards INTEGER NOT NULL
  );
  `,
];

export function ingestOps(db: Db): Pick<StateStore, 'recordIngestShards'> {
  const current = db.prepare<[], number>('SELECT shards FROM ingest_shards WHERE id = 1').pluck();
  const put = db.prepare<[number]>('INSERT INTO ingest_shards (id, shards) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET shards = excluded.shards');
  const record = writeTx(db, (count: number): number | null => {
    const before = current.get() ?? null;
    put.run(count);
    return before;
  });
  return { recordIngestShards: (count) => later(() => record(count)) };
}
