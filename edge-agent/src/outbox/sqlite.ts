/**
 * The durable outbox, in `{dataDir}/edge.db` next to the batch sequence (WAL, synchronous FULL).
 *
 * A batch is inserted with its seq in one commit, so after a crash either both exist or neither.
 * What is in flight lives only in memory: after a restart every stored batch is unsent again, and a
 * batch the broker already had goes up twice, which ingest's (gatewayId, seq) dedup absorbs.
 *
 * The bound is the stored JSON of the events (bytes) and the age of a batch. Past either, the
 * oldest batches go first: the periodic inventory snapshots restore the central picture after an
 * outage, stale events would not. Batches in flight are never dropped (the broker may already
 * have them), nor the batch being appended, so the bound can be exceeded by those.
 */
import type { Logger } from 'pino';
import type { Clock, UplinkEvent } from '@pledgewatch/common';
import { TypedEmitter } from '../events.ts';
import { openEdgeDb } from '../seq.ts';
import type { Outbox, OutboxEvents, PendingBatch } from './outbox.ts';
import { outboxTables, type OutboxTables } from './sqlite-tables.ts';

export interface SqliteOutboxOptions {
  dataDir: string;
  /** Stored event JSON at most, in bytes; the file itself is larger by SQLite's page overhead. */
  maxBytes: number;
  /** A batch older than this is dropped rather than sent. */
  maxAgeMs: number;
  clock: Clock;
  logger: Logger;
}

interface Size {
  events: number;
  bytes: number;
}

type Tally = Record<OutboxEvents['dropped']['reason'], Size & { batches: number }>;

const HEAD_PAGE = 64;

export class SqliteOutbox extends TypedEmitter<OutboxEvents> implements Outbox {
  private readonly options: SqliteOutboxOptions;
  private tables: OutboxTables | null = null;
  private readonly inFlight = new Map<number, Size>();
  /** Acknowledged but not yet deleted: acks arriving together are deleted in one commit. */
  private readonly acked = new Map<number, Size>();
  private ackFlush: NodeJS.Immediate | null = null;
  private stored: Size = { events: 0, bytes: 0 };
  private droppedEvents = 0;
  /** Events whose batch could not be stored at all: counted as dropped, but only in this run. */
  private lost = 0;

  constructor(options: SqliteOutboxOptions) {
    super();
    this.options = options;
  }

  open(): void {
    if (this.tables !== null) return;
    const db = openEdgeDb(this.options.dataDir);
    try {
      const tables = outboxTables(db);
      this.stored = tables.totals.get() ?? { events: 0, bytes: 0 };
      this.droppedEvents = tables.dropped.get()?.dropped_events ?? 0;
      this.tables = tables;
    } catch (err) {
      db.close();
      throw err;
    }
    this.inFlight.clear();
    this.acked.clear();
    this.dropExpired();
  }

  close(): void {
    const tables = this.tables;
    if (tables === null) return;
    this.flushAcks();
    this.tables = null;
    this.inFlight.clear();
    tables.db.close();
  }

  append(events: UplinkEvent[]): number {
    const tables = this.tables;
    if (tables === null) {
      this.lost += events.length;
      throw new Error('outbox is not open');
    }
    const json = JSON.stringify(events);
    const size = { events: events.length, bytes: Buffer.byteLength(json) };
    let seq: number;
    let tally: Tally;
    try {
      ({ seq, tally } = tables.db.transaction(() => {
        const next = tables.sequence.next();
        tables.insert.run(next, this.options.clock.now(), size.events, size.bytes, json);
        return { seq: next, tally: this.dropOldest(tables, this.stored.bytes + size.bytes, next) };
      })());
    } catch (err) {
      this.lost += events.length;
      throw err;
    }
    this.stored = { events: this.stored.events + size.events, bytes: this.stored.bytes + size.bytes };
    this.settle(tally);
    return seq;
  }

  take(): PendingBatch | undefined {
    const tables = this.tables;
    if (tables === null) return undefined;
    for (;;) {
      // Among the first (handed out + 1) stored batches at least one is not handed out.
      const skip = this.inFlight.size + this.acked.size;
      const seq = tables.firstSeqs.all(skip + 1).find((r) => !this.inFlight.has(r.seq) && !this.acked.has(r.seq))?.seq;
      if (seq === undefined) return undefined;
      const row = tables.batch.get(seq);
      if (row === undefined) return undefined;
      if (this.expired(row.created_at)) {
        // An outage outlived the bound with no new batch to trigger the drop: drop now, not send.
        if (this.dropExpired() === 0) return undefined;
        continue;
      }
      this.inFlight.set(seq, { events: row.event_count, bytes: row.bytes });
      // Written by append() from UplinkEvent[]: the JSON is ours, not input to validate.
      return { seq, events: JSON.parse(row.events) as UplinkEvent[] };
    }
  }

  ack(seq: number): void {
    const size = this.inFlight.get(seq);
    if (size === undefined || this.tables === null) return;
    this.inFlight.delete(seq);
    this.acked.set(seq, size);
    this.stored = { events: this.stored.events - size.events, bytes: this.stored.bytes - size.bytes };
    this.ackFlush ??= setImmediate(() => this.flushAcks());
  }

  release(seq: number): void {
    this.inFlight.delete(seq);
  }

  get depth(): number {
    return this.stored.events;
  }

  get dropped(): number {
    return this.droppedEvents + this.lost;
  }

  /** Deletes acknowledged batches. A crash before it only means those go up once more. */
  private flushAcks(): void {
    if (this.ackFlush !== null) clearImmediate(this.ackFlush);
    this.ackFlush = null;
    const tables = this.tables;
    if (tables === null || this.acked.size === 0) return;
    const seqs = [...this.acked.keys()];
    try {
      tables.db.transaction(() => {
        for (const seq of seqs) tables.remove.run(seq);
      })();
      for (const seq of seqs) this.acked.delete(seq);
    } catch (err) {
      // Kept in `acked`: never handed out again, retried with the next ack.
      this.options.logger.warn({ err: (err as Error).message, batches: seqs.length }, 'cannot delete acknowledged batches yet');
    }
  }

  /** Drops batches past the age bound (at open, and before one would be sent); returns the events dropped. */
  private dropExpired(): number {
    const tables = this.tables;
    if (tables === null) return 0;
    // Bytes only grow on append(), which enforces their bound; this is about time passing.
    const tally = tables.db.transaction(() => this.dropOldest(tables, 0, null))();
    return this.settle(tally);
  }

  /**
   * Inside the caller's transaction: deletes the oldest batches while they are expired or the
   * store is over its byte bound, skipping those handed out and `keep`; persists the dropped count.
   */
  private dropOldest(tables: OutboxTables, storedBytes: number, keep: number | null): Tally {
    const tally: Tally = { full: { events: 0, bytes: 0, batches: 0 }, expired: { events: 0, bytes: 0, batches: 0 } };
    let bytes = storedBytes;
    let after = 0;
    for (let rows = tables.head.all(after, HEAD_PAGE); rows.length > 0; rows = tables.head.all(after, HEAD_PAGE)) {
      for (const row of rows) {
        after = row.seq;
        if (row.seq === keep) break;
        if (this.inFlight.has(row.seq) || this.acked.has(row.seq)) continue;
        const reason = this.expired(row.created_at) ? 'expired' : bytes > this.options.maxBytes ? 'full' : null;
        if (reason === null) return this.persist(tables, tally);
        tables.remove.run(row.seq);
        bytes -= row.bytes;
        tally[reason].events += row.event_count;
        tally[reason].bytes += row.bytes;
        tally[reason].batches += 1;
      }
      if (after === keep) break;
    }
    return this.persist(tables, tally);
  }

  private persist(tables: OutboxTables, tally: Tally): Tally {
    const events = tally.full.events + tally.expired.events;
    if (events > 0) tables.addDropped.run(events);
    return tally;
  }

  /** Applies a committed drop to the in-memory totals and tells listeners; returns the events dropped. */
  private settle(tally: Tally): number {
    let total = 0;
    for (const reason of ['expired', 'full'] as const) {
      const { events, bytes, batches } = tally[reason];
      if (batches === 0) continue;
      this.stored = { events: this.stored.events - events, bytes: this.stored.bytes - bytes };
      this.droppedEvents += events;
      total += events;
      this.emit('dropped', { events, batches, reason });
    }
    return total;
  }

  private expired(createdAt: number): boolean {
    return this.options.clock.now() - createdAt > this.options.maxAgeMs;
  }
}
