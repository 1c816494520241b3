/**
 * The outbox's tables in edge.db and the statements the SQLite outbox runs on them. The seq comes
 * from the batch_seq table (seq.ts), so a gateway upgraded from the seq-only edge.db keeps counting.
 */
import type Database from 'better-sqlite3';
import { SqliteBatchSequence, type EdgeDb } from '../seq.ts';

export interface HeadRow {
  seq: number;
  created_at: number;
  event_count: number;
  bytes: number;
}

export interface BatchRow {
  created_at: number;
  event_count: number;
  bytes: number;
  events: string;
}

export interface OutboxTables {
  readonly db: EdgeDb;
  readonly sequence: SqliteBatchSequence;
  readonly insert: Database.Statement<[seq: number, createdAt: number, eventCount: number, bytes: number, events: string]>;
  /** Batches after a seq, oldest first: what the bound looks at. */
  readonly head: Database.Statement<[afterSeq: number, limit: number], HeadRow>;
  readonly firstSeqs: Database.Statement<[limit: number], { seq: number }>;
  readonly batch: Database.Statement<[seq: number], BatchRow>;
  readonly remove: Database.Statement<[seq: number]>;
  readonly totals: Database.Statement<[], { events: number; bytes: number }>;
  readonly dropped: Database.Statement<[], { dropped_events: number }>;
  readonly addDropped: Database.Statement<[events: number]>;
}

export function outboxTables(db: EdgeDb): OutboxTables {
  const sequence = new SqliteBatchSequence(db);
  db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY,
      created_at INTEGER NOT NULL,
      event_count INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      events TEXT NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS outbox_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      dropped_events INTEGER NOT NULL
    ) STRICT;
    INSERT OR IGNORE INTO outbox_state (id, dropped_events) VALUES (1, 0);`);
  return {
    db,
    sequence,
    insert: db.prepare('INSERT INTO outbox (seq, created_at, event_count, bytes, events) VALUES (?, ?, ?, ?, ?)'),
    head: db.prepare('SELECT seq, created_at, event_count, bytes FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
    firstSeqs: db.prepare('SELECT seq FROM outbox ORDER BY seq LIMIT ?'),
    batch: db.prepare('SELECT created_at, event_count, bytes, events FROM outbox WHERE seq = ?'),
    remove: db.prepare('DELETE FROM outbox WHERE seq = ?'),
    totals: db.prepare('SELECT COALESCE(SUM(event_count), 0) AS events, COALESCE(SUM(bytes), 0) AS bytes FROM outbox'),
    dropped: db.prepare('SELECT dropped_events FROM outbox_state WHERE id = 1'),
    addDropped: db.prepare('UPDATE outbox_state SET dropped_events = dropped_events + ? WHERE id = 1'),
  };
}
