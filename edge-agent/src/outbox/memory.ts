import type { Outbox, PendingBatch } from './outbox.ts';

interface Entry {
  batch: PendingBatch;
  inFlight: boolean;
}

/**
 * Outbox in memory, bounded in events. When full it drops the oldest waiting batches: the periodic
 * inventory snapshots restore the central picture after an outage, stale events would not.
 * Batches in flight are never dropped, so the bound can be exceeded by what is in flight.
 */
export class MemoryOutbox implements Outbox {
  private readonly maxEvents: number;
  private readonly entries: Entry[] = [];
  private events = 0;
  private droppedEvents = 0;

  constructor(maxEvents: number) {
    this.maxEvents = maxEvents;
  }

  append(batch: PendingBatch): number {
    let dropped = 0;
    for (let i = 0; i < this.entries.length && this.events + batch.events.length > this.maxEvents; ) {
      const entry = this.entries[i] as Entry;
      if (entry.inFlight) {
        i++;
        continue;
      }
      this.entries.splice(i, 1);
      this.events -= entry.batch.events.length;
      dropped += entry.batch.events.length;
    }
    this.entries.push({ batch, inFlight: false });
    this.events += batch.events.length;
    this.droppedEvents += dropped;
    return dropped;
  }

  take(): PendingBatch | undefined {
    const entry = this.entries.find((e) => !e.inFlight);
    if (entry === undefined) return undefined;
    entry.inFlight = true;
    return entry.batch;
  }

  ack(seq: number): void {
    const i = this.entries.findIndex((e) => e.batch.seq === seq);
    if (i < 0) return;
    this.events -= (this.entries[i] as Entry).batch.events.length;
    this.entries.splice(i, 1);
  }

  release(seq: number): void {
    const entry = this.entries.find((e) => e.batch.seq === seq);
    if (entry !== undefined) entry.inFlight = false;
  }

  get depth(): number {
    return this.events;
  }

  get dropped(): number {
    return this.droppedEvents;
  }
}
