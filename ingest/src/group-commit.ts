/**
 * Group commit. When a shard has several messages queued (the embedded broker's hand-over gives them
 * in runs, see portConnection), the batches among them are logged in one transaction — one turn at the
 * state file's write lock, which the shards take in turn — before any of them is acknowledged, instead
 * of one transaction each: committing each batch on its own took about a quarter of ingest's
 * throughput (README, Benchmarks).
 *
 * A batch alone (nothing queued behind it, nothing staged: a quiet gateway, or an external broker's
 * one-at-a-time delivery) is logged at once, as before. In a group, whether a batch is fresh is decided
 * when it is applied — staged in this group already, or logged before (one lookup) — so that a
 * redelivery is dropped before it touches live state, as the insert's refusal did. The group is written
 * before the connection acknowledges its messages and before a checkpoint retires its batches.
 *
 * A group that cannot be written is a store that failed under batches already applied in memory (and
 * other shards told of them, see shareBatch): there is no taking one back out, as a single failed commit
 * is. `onFailure` then stops ingest (the worker exits, and the central side with it), nothing more is
 * logged meanwhile, and a restart rebuilds live state from what was logged.
 */
import type { BatchCommit, StateStore } from '@pledgewatch/store';

const keyOf = (e: BatchCommit) => `${e.batch.gatewayId}\u0000${e.batch.seq}`;

export class GroupCommit {
  /** Set for each message: true when more follow that the connection acknowledges together with it. */
  grouping = false;
  private staged: BatchCommit[] = [];
  private readonly keys = new Set<string>();
  private writing: Promise<unknown> = Promise.resolve();
  /** Why a group could not be logged: from then on nothing more is (ingest is stopping). */
  private failed: Error | null = null;

  constructor(
    private readonly store: Pick<StateStore, 'commitBatch' | 'commitBatches' | 'isApplied'>,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Logs the batch, or stages it for its group's write; false when it was applied before (a redelivery). */
  async commit(entry: BatchCommit): Promise<boolean> {
    if (this.failed !== null) throw this.failed;
    if (!this.grouping && this.staged.length === 0) return this.store.commitBatch(entry.batch, entry.alerts, entry.statuses);
    const key = keyOf(entry);
    if (this.keys.has(key) || (await this.store.isApplied(entry.batch.gatewayId, entry.batch.seq))) return false;
    this.keys.add(key);
    this.staged.push(entry);
    return true;
  }

  /** Writes what is staged, in one transaction. */
  flush(): Promise<void> {
    const run = this.writing.then(async () => {
      if (this.failed !== null) throw this.failed;
      if (this.staged.length === 0) return;
      const group = this.staged;
      this.staged = [];
      try {
        const fresh = await this.store.commitBatches(group);
        const taken = fresh.filter((f) => !f).length;
        if (taken > 0) throw new Error(`${taken} of a group's ${group.length} batches were logged by another writer meanwhile`);
      } catch (err) {
        this.failed = err instanceof Error ? err : new Error(String(err));
        this.onFailure(err);
        throw err;
      } finally {
        for (const e of group) this.keys.delete(keyOf(e));
      }
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}
