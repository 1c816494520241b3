/**
 * The gateway's batch sequence, in the SQLite file `{dataDir}/edge.db`. Ingest drops a batch whose
 * (gatewayId, seq) it has already applied, so a seq handed out twice would silently lose a batch:
 * each value is committed with a full fsync before it is used. The outbox (outbox/sqlite.ts) lives
 * in the same file and takes its seq in the same transaction as the batch it stores.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type EdgeDb = Database.Database;

export interface BatchSequence {
  /** The next seq: strictly greater than every value returned before, across restarts. */
  next(): number;
}

export function openEdgeDb(dataDir: string): EdgeDb {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'edge.db'));
  db.pragma('journal_mode = WAL');
  // NORMAL would let a power cut roll back the last commits, and with them seqs already sent.
  db.pragma('synchronous = FULL');
  return db;
}

export class SqliteBatchSequence implements BatchSequence {
  private readonly increment: Database.Statement<[], { value: number }>;

  constructor(db: EdgeDb) {
    db.exec(`CREATE TABLE IF NOT EXISTS batch_seq (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      value INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO batch_seq (id, value) VALUES (1, 0);`);
    this.increment = db.prepare<[], { value: number }>('UPDATE batch_seq SET value = value + 1 WHERE id = 1 RETURNING value');
  }

  next(): number {
    const row = this.increment.get();
    if (row === undefined) throw new Error('batch_seq row missing from edge.db');
    return row.value;
  }
}
