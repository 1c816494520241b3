/** Small helpers the rules share for summaries and evidence. */
import { isoTime, roundTo } from '@pledgewatch/common';

/** A quantity as people read it: at most three decimals, no float artefacts. */
export const qty = (n: number): string => String(roundTo(n, 3));

export const percent = (share: number, decimals = 1): string => `${roundTo(share * 100, decimals)} %`;

export const iso = isoTime;

/** First `limit` entries by key, so evidence stays small and stable for huge pledges. */
export function firstBy<T>(items: readonly T[], key: (t: T) => string, limit: number): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).slice(0, limit);
}
