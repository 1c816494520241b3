/**
 * Threads of one process that write one SQLite file (ingest's shards, the webhook dispatcher, the
 * API) take turns here before SQLite's own lock. SQLite makes a writer that finds the file locked
 * sleep 1, 2, 5, 10, … ms before it looks again (its busy handler, whatever the lock's holder does
 * meanwhile): under load, one commit in eight of a quiet shard slept milliseconds behind a busy one's
 * commits, and alerts reached lenders that much later (`npm run bench -- webhook`). Here a writer
 * waits on a counter shared between the threads and wakes the moment its turn comes, in the order the
 * writers came (a ticket lock: a thread writing in a loop cannot keep the file by taking it again at
 * once).
 *
 * SQLite's lock stays the authority: this one only orders the threads that share its buffer. A writer
 * that waits past `staleMs` for a turn that never ends (a thread stopped while holding it) passes that
 * turn on and goes on waiting for its own; a writer whose own turn was passed on leaves the counter to
 * the others.
 */

/** A new lock, to be handed (in a store spec) to every thread that opens the same file. */
export function newWriteLock(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

const NEXT = 0;
const SERVING = 1;

export class WriteLock {
  private readonly cells: Int32Array;
  /** Turns this thread holds (a write inside a write runs in the outer one's turn). */
  private depth = 0;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly staleMs = 5_000,
  ) {
    this.cells = new Int32Array(buffer);
  }

  run<T>(work: () => T): T {
    if (this.depth > 0) return work();
    const ticket = this.acquire();
    this.depth++;
    try {
      return work();
    } finally {
      this.depth--;
      // Our turn ends: the next ticket's begins (unless ours was passed on meanwhile).
      if (Atomics.compareExchange(this.cells, SERVING, ticket, ticket + 1) === ticket) Atomics.notify(this.cells, SERVING);
    }
  }

  private acquire(): number {
    const ticket = Atomics.add(this.cells, NEXT, 1);
    let serving = Atomics.load(this.cells, SERVING);
    let since = Date.now();
    // Until our turn comes — or has gone by: passed on while we slept, and then we write unordered.
    while (serving !== ticket && ((ticket - serving) | 0) > 0) {
      Atomics.wait(this.cells, SERVING, serving, this.staleMs);
      const now = Atomics.load(this.cells, SERVING);
      if (now !== serving) {
        serving = now;
        since = Date.now();
      } else if (Date.now() - since >= this.staleMs) {
        // The same turn for staleMs: its holder is gone. Pass it on.
        if (Atomics.compareExchange(this.cells, SERVING, serving, serving + 1) === serving) Atomics.notify(this.cells, SERVING);
        since = Date.now();
      }
    }
    return ticket;
  }
}
