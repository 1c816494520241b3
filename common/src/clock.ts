/** Time source for everything with a timeout (absence, heartbeat, retry), so tests can run hours in milliseconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}

export interface Timer {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    return { cancel: () => clearInterval(handle) };
  },
};

interface Scheduled {
  id: number;
  due: number;
  fn: () => void;
  every: number | null;
}

/** A manual clock: timers fire only inside `advance`, in due order. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 0;
  private timers = new Map<number, Scheduled>();

  constructor(start: number | string = '2026-01-01T00:00:00.000Z') {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: Scheduled | undefined;
      for (const t of this.timers.values()) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      }
      if (next === undefined) break;
      this.current = Math.max(this.current, next.due);
      if (next.every === null) this.timers.delete(next.id);
      else next.due += next.every;
      next.fn();
    }
    this.current = target;
  }

  pending(): number {
    return this.timers.size;
  }

  private schedule(fn: () => void, ms: number, every: number | null): Timer {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn, every });
    return { cancel: () => this.timers.delete(id) };
  }
}

/** RFC 3339 UTC with milliseconds, as CONTRACT.md fixes for every time on the wire. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * True when time `a` is strictly before `b`. Canonical UTC times (as isoTime writes them, and as the
 * edge agent sends them) order as text, which spares a Date.parse per event on the ingest hot path.
 */
export function isBefore(a: string, b: string): boolean {
  if (isCanonical(a) && isCanonical(b)) return a < b;
  return Date.parse(a) < Date.parse(b);
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, checked by shape only: every schema on the way in already checked the digits. */
function isCanonical(t: string): boolean {
  return t.length === 24 && t.charCodeAt(23) === 90 /* Z */ && t.charCodeAt(10) === 84 /* T */ && t.charCodeAt(19) === 46 /* . */;
}
