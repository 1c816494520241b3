/**
 * Follows the event outbox (the events webhooks deliver) for the Server-Sent Events stream: one poller
 * per API process, however many clients are connected, fanning each committed event out to the
 * subscribers of its tenant. A subscriber that resumes from an older position (Last-Event-ID) first
 * reads its gap from the store on its own, then joins the live feed without a gap or a repeat.
 * Several API processes on one database each follow the same outbox, so a client may connect to any.
 */
import type { EventRecord } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import type { FastifyBaseLogger } from 'fastify';

const PAGE = 500;

export interface Subscriber {
  tenant: string;
  /** Event types wanted; null = all. */
  types: ReadonlySet<string> | null;
  /** Hands one event to the client; false when the client cannot keep up (it is then dropped). */
  send(event: EventRecord): boolean;
  /** Called once when the hub drops the subscriber (slow client, hub closing). */
  drop(reason: string): void;
}

interface Entry {
  sub: Subscriber;
  /** seq of the last event this subscriber was handed (or skipped as not its own) */
  position: number;
  catchingUp: boolean;
}

export interface EventHubOptions {
  store: Pick<StateStore, 'eventsAfter' | 'lastEventSeq'>;
  log: FastifyBaseLogger;
  pollMs: number;
  onSent?: (n: number) => void;
}

export class EventHub {
  private readonly entries = new Set<Entry>();
  /** seq of the newest event the poller has read; null until the first subscriber started it. */
  private cursor: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: EventHubOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Starts handing `sub` the events of its tenant after `after` (null: only events committed from now
   * on). Resolves once the subscriber is live; returns the function that unsubscribes.
   */
  async subscribe(sub: Subscriber, after: number | null): Promise<() => void> {
    if (this.closed) throw new Error('event hub is closed');
    const head = await this.start();
    const entry: Entry = { sub, position: after ?? head, catchingUp: true };
    this.entries.add(entry);
    const unsubscribe = () => void this.entries.delete(entry);
    try {
      // The poller skips an entry while it catches up; the loop ends, synchronously with the check,
      // once the entry is level with the poller, which hands it everything after that.
      while (this.entries.has(entry) && entry.position < (this.cursor ?? head)) {
        const page = await this.opts.store.eventsAfter(entry.position, PAGE);
        if (page.length === 0) break;
        for (const e of page) if (!this.deliver(entry, e)) break;
      }
    } catch (err) {
      unsubscribe();
      throw err;
    }
    entry.catchingUp = false;
    return unsubscribe;
  }

  /** Ends every stream and stops polling. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
    for (const entry of this.entries) entry.sub.drop('server shutting down');
    this.entries.clear();
  }

  private async start(): Promise<number> {
    if (this.cursor === null) {
      const head = await this.opts.store.lastEventSeq();
      // Another subscriber may have started the poller while this one read the head.
      if (this.cursor === null) {
        this.cursor = head;
        this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
        this.timer.unref();
      }
    }
    return this.cursor;
  }

  private poll(): Promise<void> {
    if (this.polling !== null || this.entries.size === 0 || this.cursor === null) return Promise.resolve();
    this.polling = (async () => {
      try {
        let page: EventRecord[];
        do {
          page = await this.opts.store.eventsAfter(this.cursor ?? 0, PAGE);
          for (const e of page) {
            for (const entry of this.entries) if (!entry.catchingUp && entry.position < e.seq) this.deliver(entry, e);
            this.cursor = e.seq;
          }
        } while (page.length === PAGE && !this.closed);
      } catch (err) {
        this.opts.log.error({ err }, 'event stream poll failed; retrying');
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  /** Hands `e` to the entry if it is its tenant's and wanted; false when the entry was dropped. */
  private deliver(entry: Entry, e: EventRecord): boolean {
    entry.position = e.seq;
    const { sub } = entry;
    if (e.tenant !== sub.tenant || (sub.types !== null && !sub.types.has(e.type))) return true;
    if (sub.send(e)) {
      this.opts.onSent?.(1);
      return true;
    }
    this.entries.delete(entry);
    sub.drop('client too slow');
    return false;
  }
}
