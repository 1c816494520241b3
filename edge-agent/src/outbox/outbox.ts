/**
 * The outbox port: batches (already numbered) wait here until the central broker acknowledges
 * them. This first cut keeps them in memory; the SQLite outbox in edge.db replaces it so nothing
 * is lost across restarts and power cuts.
 */
import type { UplinkEvent } from '@pledgewatch/common';

export interface PendingBatch {
  readonly seq: number;
  readonly events: UplinkEvent[];
}

export interface Outbox {
  /** Stores a batch; returns how many events were dropped to make room (0 when none). */
  append(batch: PendingBatch): number;
  /** The oldest batch not handed out yet, now marked in flight; undefined when none waits. */
  take(): PendingBatch | undefined;
  /** The broker has the batch: forget it. */
  ack(seq: number): void;
  /** Sending failed: the batch waits again, ahead of newer ones. */
  release(seq: number): void;
  /** Events stored and not yet acknowledged, in flight included. */
  readonly depth: number;
  /** Events dropped because the outbox was full, since it was opened. */
  readonly dropped: number;
}
