/**
 * Writes the tag and reader state that batches changed into the state store's tables, a few times a
 * second, and retires the logged batches it covers. A tag that changes many times between two
 * checkpoints is written once. Until then the batch log holds the truth (see LoggedBatch).
 *
 * A checkpoint after heavy traffic covers thousands of tags; written in one go it would hold ingest's
 * thread for tens of milliseconds (every message, and every webhook, waits behind it). So it is written
 * in chunks of `chunkTags` tags, each its own transaction, yielding between them; the batches are
 * retired with the last chunk only, so a crash midway replays them over tags partly written already
 * (replay never moves a tag back in time).
 */
import type { ReaderHealth, TagState } from '@pledgewatch/common';
import { readerKey } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';

/**
 * A tag as the checkpointer sees it (live state's TagEntry): queued once however often it changes
 * between two checkpoints, with no lookup by EPC, and written as it stands at the checkpoint.
 */
export interface CheckpointedTag {
  /** Its state as last committed: what is written. */
  readonly committed: TagState | undefined;
  /** Set while it waits for the next checkpoint. */
  pending: boolean;
}

export class Checkpointer {
  private tags: CheckpointedTag[] = [];
  private readers = new Map<string, ReaderHealth>();
  private batches: { gatewayId: string; seq: number }[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<StateStore, 'checkpoint'>,
    private readonly log: Logger,
    /**
     * Pending batches that trigger a checkpoint at once, bounding replay work after a crash (2,000
     * batches replay in about a second). Under a burst the one-second timer comes first, so each tag
     * that changed is written about once a second rather than at every 500 batches.
     */
    private readonly maxBatches = 2000,
    /** Tags written per transaction (see the file comment). */
    private readonly chunkTags = 500,
  ) {}

  add(batch: { gatewayId: string; seq: number } | null, tags: Iterable<CheckpointedTag>, readers: Iterable<ReaderHealth>): void {
    this.queue(tags);
    for (const r of readers) this.readers.set(readerKey(r.gatewayId, r.readerId), r);
    if (batch !== null) this.batches.push(batch);
    if (this.batches.length >= this.maxBatches) void this.flush();
  }

  pending(): number {
    return this.batches.length;
  }

  /** Writes what is pending; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.running = this.running.then(() => this.write());
    return this.running;
  }

  private queue(tags: Iterable<CheckpointedTag>): void {
    for (const t of tags) {
      if (t.pending) continue;
      t.pending = true;
      this.tags.push(t);
    }
  }

  private async write(): Promise<void> {
    if (this.tags.length === 0 && this.readers.size === 0 && this.batches.length === 0) return;
    const tags = this.tags;
    const readers = this.readers;
    const batches = this.batches;
    this.tags = [];
    this.readers = new Map();
    this.batches = [];
    const all: TagState[] = [];
    for (const t of tags) {
      t.pending = false;
      if (t.committed !== undefined) all.push(t.committed);
    }
    try {
      for (let i = this.chunkTags; i < all.length; i += this.chunkTags) {
        await this.store.checkpoint({ tags: all.slice(i - this.chunkTags, i), readers: [], batches: [] });
        await yieldToEventLoop();
      }
      const last = all.length === 0 ? 0 : all.length - (((all.length - 1) % this.chunkTags) + 1);
      await this.store.checkpoint({ tags: all.slice(last), readers: [...readers.values()], batches });
    } catch (err) {
      // Put it all back and try again at the next checkpoint (which writes what stands by then).
      this.queue(tags);
      for (const [k, v] of readers) if (!this.readers.has(k)) this.readers.set(k, v);
      this.batches = [...batches, ...this.batches];
      this.log.error({ err }, 'checkpoint failed; will retry');
    }
  }
}

/** Lets pending I/O (the next MQTT message, a webhook response) run between two chunks. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
