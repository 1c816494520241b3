import type { Clock, Timer, UplinkEvent } from '@pledgewatch/common';

export interface BatcherOptions {
  maxEvents: number;
  maxDelayMs: number;
  clock: Clock;
  /** Receives each batch, oldest events first; never called with an empty list. */
  onBatch: (events: UplinkEvent[]) => void;
}

/**
 * Groups events into batches: a batch closes when it holds maxEvents or when its first event has
 * waited maxDelayMs, so a quiet warehouse still reports within the delay and a busy one sends few,
 * full batches.
 */
export class Batcher {
  private readonly options: BatcherOptions;
  private pending: UplinkEvent[] = [];
  private timer: Timer | null = null;

  constructor(options: BatcherOptions) {
    this.options = options;
  }

  add(event: UplinkEvent): void {
    this.pending.push(event);
    if (this.pending.length >= this.options.maxEvents) this.flush();
    else this.timer ??= this.options.clock.setTimeout(() => this.flush(), this.options.maxDelayMs);
  }

  /** Closes the open batch now (also the stop path). */
  flush(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.options.onBatch(events);
  }

  get size(): number {
    return this.pending.length;
  }
}
