/** When a failed delivery is tried again: the Standard Webhooks schedule, with jitter. */

/** Delay before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (about three days). */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
];

/** Jitter spreads retries of many deliveries that failed together (a receiver outage) over ±10 %. */
const JITTER = 0.1;
/** A receiver's Retry-After is honoured up to this; longer ones fall back to the schedule. */
const MAX_RETRY_AFTER_MS = 86_400_000;

export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'disable' }
  | { kind: 'retry'; retryAfterMs?: number };

/** Only 2xx is success; 410 Gone disables the endpoint; everything else (and no answer) retries. */
export function outcomeOf(status: number | null, retryAfterMs?: number): Outcome {
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'disable' };
  return retryAfterMs === undefined ? { kind: 'retry' } : { kind: 'retry', retryAfterMs };
}

/**
 * Delay before the next attempt after `attemptsMade` attempts, or null when the schedule is exhausted.
 * A Retry-After (429, 503) is honoured when it asks for longer than the schedule would wait.
 */
export function nextDelayMs(attemptsMade: number, random: () => number, retryAfterMs?: number): number | null {
  const base = RETRY_SCHEDULE_MS[attemptsMade];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + (random() * 2 - 1) * JITTER));
  if (retryAfterMs !== undefined && retryAfterMs > jittered) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return jittered;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
