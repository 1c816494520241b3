/**
 * The outbox port: event batches wait here, numbered, until the central broker acknowledges them.
 * A batch counts as accepted once append() returns: from then on it survives restarts and power
 * cuts, and only the outbox's bound (or the broker's ack) removes it.
 */
import type { UplinkEvent } from '@pledgewatch/common';
import type { Listenable } from '../events.ts';

export interface PendingBatch {
  readonly seq: number;
  readonly events: UplinkEvent[];
}

export interface OutboxEvents {
  /** Oldest batches dropped to stay within the bound: `full` (bytes) or `expired` (age). */
  dropped: { events: number; batches: number; reason: 'full' | 'expired' };
}

export interface Outbox extends Listenable<OutboxEvents> {
  /** Opens the store and takes over what a previous run left unsent; nothing is in flight after it. */
  open(): void;
  /** Closes the store; batches not acknowledged stay for the next open(). */
  close(): void;
  /**
   * Stores a batch and gives it the next seq in the same commit, so a seq is never reused and never
   * skipped by a crash. Throws when the batch cannot be stored; its events then count as dropped.
   */
  append(events: UplinkEvent[]): number;
  /** The oldest batch neither in flight nor acknowledged, now marked in flight; undefined when none waits. */
  take(): PendingBatch | undefined;
  /** The broker has the batch: forget it. */
  ack(seq: number): void;
  /** Sending failed: the batch waits again, ahead of newer ones. */
  release(seq: number): void;
  /** Events stored and not yet acknowledged, in flight included. */
  readonly depth: number;
  /** Events dropped to stay within the bound, over the life of the store (persisted). */
  readonly dropped: number;
}
