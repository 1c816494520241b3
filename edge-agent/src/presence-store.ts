/**
 * Where the present tags outlive a restart: the `presence` table of `{dataDir}/edge.db`, beside the
 * outbox. Written behind, in bulk: the agent saves what changed every few seconds (a tag read a
 * thousand times in between is one row write), never per read.
 *
 * A departed tag's row is deleted, so the table holds exactly the tags present and stays the size
 * of the warehouse, not of its history. Losing the last save (a power cut) costs at most repeated
 * events — a tag arrives, moves or departs once more — because the agent stores the events in the
 * outbox before it saves the state they lead to.
 */
import type Database from 'better-sqlite3';
import type { PresenceChanges, PresenceRecord } from './presence.ts';
import { openEdgeDb, type EdgeDb } from './seq.ts';

/** The port: presence state across restarts. */
export interface PresenceStore {
  /** Opens the store; the present tags as last saved. */
  open(): PresenceRecord[];
  /** Writes one save's changes in one commit; throws when it cannot (nothing is written then). */
  save(changes: PresenceChanges): void;
  close(): void;
}

interface Statements {
  db: EdgeDb;
  upsert: Database.Statement<[epc: string, readerId: string, zone: string, lastSeenAt: number]>;
  remove: Database.Statement<[epc: string]>;
}

interface Row {
  epc: string;
  reader_id: string;
  zone: string;
  last_seen_at: number;
}

export class SqlitePresenceStore implements PresenceStore {
  private readonly dataDir: string;
  private statements: Statements | null = null;

  constructor(options: { dataDir: string }) {
    this.dataDir = options.dataDir;
  }

  open(): PresenceRecord[] {
    if (this.statements !== null) throw new Error('presence store already open');
    // A connection of its own: the outbox's stays private to it. One thread uses both, so they never contend.
    const db = openEdgeDb(this.dataDir);
    try {
      // A lost save repeats events at worst (see above), so this connection skips the per-commit fsync.
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS presence (
        epc TEXT PRIMARY KEY,
        reader_id TEXT NOT NULL,
        zone TEXT NOT NULL,
        last_seen_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;`);
      const rows = db.prepare<[], Row>('SELECT epc, reader_id, zone, last_seen_at FROM presence').all();
      this.statements = {
        db,
        upsert: db.prepare(
          `INSERT INTO presence (epc, reader_id, zone, last_seen_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (epc) DO UPDATE SET reader_id = excluded.reader_id, zone = excluded.zone, last_seen_at = excluded.last_seen_at`,
        ),
        remove: db.prepare('DELETE FROM presence WHERE epc = ?'),
      };
      return rows.map((r) => ({ epc: r.epc, readerId: r.reader_id, zone: r.zone, lastSeenAt: r.last_seen_at }));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  save(changes: PresenceChanges): void {
    const s = this.statements;
    if (s === null) throw new Error('presence store is not open');
    s.db.transaction(() => {
      for (const t of changes.present) s.upsert.run(t.epc, t.readerId, t.zone, t.lastSeenAt);
      for (const epc of changes.gone) s.remove.run(epc);
    })();
  }

  close(): void {
    this.statements?.db.close();
    this.statements = null;
  }
}
