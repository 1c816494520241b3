/** Where each pledged item is, derived from the last known tag states and reader health. Pure. */
import type { Pledge, Quantities } from './pledge.ts';
import { NOTHING_RELEASED, type ReleasedGoods } from './releases.ts';

/** The last thing ingest knows about one tag. */
export interface TagState {
  epc: string;
  gatewayId: string;
  siteId: string;
  zone: string;
  readerId: string;
  /** false after a confirmed departure (absence while its reader was healthy). */
  present: boolean;
  lastSeenAt: string;
  updatedAt: string;
}

export interface ReaderHealth {
  gatewayId: string;
  readerId: string;
  connected: boolean;
  at: string;
}

export type ItemState = 'present' | 'missing' | 'relocated' | 'unknown';

export const readerKey = (gatewayId: string, readerId: string): string => `${gatewayId}/${readerId}`;

/** Tells whether the reader that last saw a tag can vouch for it now. */
export type ReaderIsUp = (gatewayId: string, readerId: string) => boolean;

/**
 * Classifies one pledged item. A tag never seen, or last seen present by a reader (or gateway) that is
 * now down, is unknown: a blind spot, not a loss. A departure confirmed while its reader was healthy
 * stays missing even if that reader goes down later.
 */
export function classifyItem(
  pledge: Pick<Pledge, 'siteId' | 'zones'>,
  tag: TagState | undefined,
  readerIsUp: ReaderIsUp,
): ItemState {
  if (tag === undefined) return 'unknown';
  if (!tag.present) return 'missing';
  if (!readerIsUp(tag.gatewayId, tag.readerId)) return 'unknown';
  return tag.siteId === pledge.siteId && pledge.zones.includes(tag.zone) ? 'present' : 'relocated';
}

/**
 * Quantities of a pledge less its releases: released EPCs are no longer part of it, wherever they are,
 * and a quantity released without naming items lowers what is pledged. That quantity is taken first
 * from what is missing, then relocated, then unknown, and only then from what is present: goods
 * released and gone explain a shortfall; goods released but not yet gone no longer count as present.
 * A bulk pledge (no items) has no presence data here: all of it is unknown.
 */
export function pledgeQuantities(
  pledge: Pick<Pledge, 'siteId' | 'zones' | 'items'> & { quantity?: number | undefined },
  tagOf: (epc: string) => TagState | undefined,
  readerIsUp: ReaderIsUp,
  released: ReleasedGoods = NOTHING_RELEASED,
): Quantities {
  const q: Quantities = { pledged: 0, present: 0, missing: 0, relocated: 0, damaged: 0, unknown: 0 };
  for (const item of pledge.items) {
    if (released.epcs.size > 0 && released.epcs.has(item.epc)) continue;
    q.pledged += item.quantity;
    q[classifyItem(pledge, tagOf(item.epc), readerIsUp)] += item.quantity;
  }
  if (pledge.items.length === 0 && pledge.quantity !== undefined) {
    q.pledged += pledge.quantity;
    q.unknown += pledge.quantity;
  }
  return roundQuantities(releaseQuantity(q, released.quantity));
}

/** Takes a released quantity off the pledged total and off the buckets in the order above. */
export function releaseQuantity(q: Quantities, quantity: number): Quantities {
  if (quantity <= 0) return q;
  const out = { ...q, pledged: Math.max(0, q.pledged - quantity) };
  let left = quantity;
  for (const k of ['missing', 'relocated', 'unknown', 'present'] as const) {
    const take = Math.min(out[k], left);
    out[k] -= take;
    left -= take;
  }
  out.damaged = Math.min(out.damaged, out.present);
  return out;
}

/** Nine decimals: sums of many float quantities would otherwise show artefacts like 7.500000000001. */
export function roundQuantities(q: Quantities): Quantities {
  for (const k of Object.keys(q) as (keyof Quantities)[]) q[k] = Math.round(q[k] * 1e9) / 1e9;
  return q;
}

/**
 * Builds the reader health check used by quantities: a reader is down when it said so, or when its
 * gateway is offline (last will or silence). A reader that never reported a status is taken as up:
 * the tags it reported prove it was reading.
 */
export function readerAvailability(
  readers: Iterable<ReaderHealth>,
  gatewayOnline: (gatewayId: string) => boolean | null | undefined,
): ReaderIsUp {
  const down = new Set<string>();
  for (const r of readers) if (!r.connected) down.add(readerKey(r.gatewayId, r.readerId));
  return (gatewayId, readerId) => gatewayOnline(gatewayId) !== false && !down.has(readerKey(gatewayId, readerId));
}
