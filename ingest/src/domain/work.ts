/**
 * One batch's changes, made straight in live state together with what each one replaced. The rules
 * then look at live state with the batch applied, and a batch that does not commit (a duplicate, a
 * failed write) is taken back exactly by `undo`. Applying in place instead of on an overlay that is
 * copied in after the commit halves the work per tag event, which is most of ingest's work.
 *
 * A shard applies one batch at a time, inside the alert engine's turn (AlertEngine.onBatch), so
 * nothing else changes live state between a batch's changes and its commit or undo.
 */
import type { ReaderHealth, TagState } from '@pledgewatch/common';
import { isBefore, readerKey } from '@pledgewatch/common';
import type { SeriesPoint } from '@pledgewatch/store';
import type { GatewayInfo, LiveState, TagEntry } from './live-state.ts';

interface ReaderChange {
  readonly before: ReaderHealth | undefined;
  after: ReaderHealth;
}

export class BatchWork {
  /** Tag entries this batch changed; each keeps its state from before the batch (TagEntry.before). */
  private readonly changed: TagEntry[] = [];
  private readonly readerChanges = new Map<string, ReaderChange>();
  private readonly serial: number;
  /** Committed: from then on the batch stands, whatever happens next. */
  private done = false;
  readonly points: SeriesPoint[] = [];
  /** The pledges whose tags this batch changed. */
  readonly pledgeIds = new Set<string>();

  constructor(
    readonly live: LiveState,
    readonly gateway: GatewayInfo,
  ) {
    this.serial = live.nextBatch();
  }

  /** The tag as it stands, this batch's changes so far included. */
  tagOf(epc: string): TagState | undefined {
    return this.live.tagOf(epc);
  }

  /**
   * Records a tag change unless it is older than what is known: events from two gateways, or a
   * replayed batch, must not move a tag back in time.
   */
  putTag(tag: TagState): void {
    const entry = this.live.entryOf(tag.epc);
    const current = entry.state;
    if (current !== undefined && isBefore(tag.updatedAt, current.updatedAt)) return;
    if (entry.batch !== this.serial) {
      entry.batch = this.serial;
      entry.before = current;
      this.changed.push(entry);
    }
    this.live.apply(entry, tag);
    if (entry.pledgeId !== undefined) this.pledgeIds.add(entry.pledgeId);
  }

  putReader(reader: ReaderHealth): void {
    const key = readerKey(reader.gatewayId, reader.readerId);
    const current = this.live.readers.get(key);
    if (current !== undefined && isBefore(reader.at, current.at)) return;
    const change = this.readerChanges.get(key);
    if (change === undefined) this.readerChanges.set(key, { before: current, after: reader });
    else change.after = reader;
    this.live.putReader(reader);
  }

  /** Tags the given reader currently holds present in a zone, this batch included (a copy). */
  presentIn(readerId: string, zone: string): Set<string> {
    return this.live.presentIn(this.gateway.id, readerId, zone);
  }

  /**
   * The changed tags that no pledge of this ingest counts (an EPC is in one active pledge at a time):
   * only these can be another shard's pledge's (see IngestContext.shareBatch).
   */
  uncountedTags(): TagState[] {
    const tags: TagState[] = [];
    for (const e of this.changed) if (e.quantity === undefined && e.state !== undefined) tags.push(e.state);
    return tags;
  }

  /** The readers whose health this batch changed, as they stand after it. */
  readers(): ReaderHealth[] {
    // Arrays, not generators: called for every batch, a generator kept being deoptimised and compiled again.
    return this.readerChanges.size === 0 ? [] : Array.from(this.readerChanges.values(), (c) => c.after);
  }

  get changesReaders(): boolean {
    return this.readerChanges.size > 0;
  }

  /** The batch has committed: its tag states become the ones a checkpoint writes. Returns the entries. */
  committed(): readonly TagEntry[] {
    this.done = true;
    for (const e of this.changed) {
      e.committed = e.state;
      e.before = undefined;
    }
    return this.changed;
  }

  /**
   * Takes the batch back out of live state: every tag and reader as it was before the batch. A batch
   * already committed is in the store, so it stays in live state too.
   */
  undo(): void {
    if (this.done) return;
    for (const e of this.changed) {
      this.live.restore(e, e.before);
      e.before = undefined;
    }
    for (const [key, c] of this.readerChanges) this.live.restoreReader(key, c.before);
    this.changed.length = 0;
    this.readerChanges.clear();
    this.pledgeIds.clear();
  }
}
