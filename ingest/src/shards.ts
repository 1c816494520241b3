/**
 * Ingest sharded by site (DESIGN.md, "Beyond one machine"): each shard — a worker thread, handed its
 * messages by the embedded broker (broker/handover.ts) or with an MQTT session of its own on an external
 * broker — handles the messages of the gateways at its sites, one after another, and keeps the
 * live state, rules, alerts and valuation of the pledges at those sites. A site's messages therefore
 * reach exactly one shard, in order, and a pledge's state lives in one place.
 *
 * Goods and trackers do not respect site boundaries: a tag of a pledge at site A seen at site B, a
 * tracker reporting through another site's gateway, a reader or gateway whose health decides whether
 * such a tag counts as relocated or unknown. The shard that sees them hands them to the shard that
 * owns the pledge (`ShardNews`, relayed by the worker host), so rules see what a single ingest would.
 * Shard 0 also hands on the prices it accepted: only it writes them, every shard values with them.
 */
import { isBefore, type EventOf, type FxRate, type Pledge, type PriceRecord, type ReaderHealth, type TagState } from '@pledgewatch/common';

export const MAX_INGEST_SHARDS = 32;

/** What another shard saw that this one needs; plain data (it crosses threads). */
export interface ShardNews {
  /** Tags of this shard's pledges, as another shard committed them. */
  tags?: TagState[];
  /** Reader health at another shard's gateways (it decides whether a tag seen there is relocated or unknown). */
  readers?: ReaderHealth[];
  /** Another shard's gateways going on- or offline, for the same reason. */
  gateways?: { id: string; online: boolean | null }[];
  /** Positions of this shard's pledges' trackers, reported through another shard's gateway. */
  positions?: EventOf<'position'>[];
  /** Prices (and FX rates) shard 0 accepted from the feed. */
  prices?: PriceRecord[];
  rates?: FxRate[];
}

/** Which shard this ingest is, and the way to the others. */
export interface ShardLink {
  index: number;
  count: number;
  /** Hands news to shard `to`, or to every other shard (null). */
  share(news: ShardNews, to: number | null): void;
}

/** A single ingest: every site is its own, nobody to tell. */
export const ONLY_SHARD: ShardLink = { index: 0, count: 1, share: () => undefined };

export interface SiteRegistration {
  siteId: string;
  /** When a gateway of the site was registered (ISO time). */
  createdAt: string;
}

/**
 * The shard of every site: sites ranked by when their first gateway was registered (then by site id),
 * shard = rank mod `count`. A site registered later takes the next rank, so while the count stays the
 * same no site ever moves, and consecutive sites alternate between shards (balanced by site count).
 */
export function siteShards(gateways: Iterable<SiteRegistration>, count: number): Map<string, number> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_INGEST_SHARDS) {
    throw new RangeError(`shard count must be an integer from 1 to ${MAX_INGEST_SHARDS}, not ${count}`);
  }
  const first = new Map<string, number>();
  for (const g of gateways) {
    const at = Date.parse(g.createdAt);
    const t = Number.isNaN(at) ? Number.POSITIVE_INFINITY : at;
    const held = first.get(g.siteId);
    if (held === undefined || t < held) first.set(g.siteId, t);
  }
  const ranked = [...first].sort(([a, ta], [b, tb]) => (ta === tb ? (a < b ? -1 : a > b ? 1 : 0) : ta < tb ? -1 : 1));
  return new Map(ranked.map(([siteId], rank) => [siteId, rank % count]));
}

/**
 * Whether `incoming` (a tag state another shard committed) is news to a shard holding `current`. As
 * within one shard, a tag never moves back in time; and a sighting elsewhere after the last sighting a
 * departure is based on wins over that departure even if the departure was confirmed later: shards
 * drain a backlog independently, so the arrival at B may come after the (later-confirmed) departure
 * from A that one ingest would have dropped as "the tag has turned up elsewhere".
 */
export function supersedes(incoming: TagState, current: TagState | undefined): boolean {
  if (current === undefined || !isBefore(incoming.updatedAt, current.updatedAt)) return true;
  return incoming.present && !current.present && incoming.gatewayId !== current.gatewayId && !isBefore(incoming.lastSeenAt, current.lastSeenAt);
}

/**
 * One shard's view of the split: which sites are its own, and which shard owns the pledges of other
 * sites (their EPCs and trackers), so that what it sees of them is handed on.
 */
export class ShardRouting {
  private registrations = new Map<string, SiteRegistration>();
  private sites = new Map<string, number>();
  private readonly foreign = new Map<string, { shard: number; epcs: string[]; trackers: string[] }>();
  private readonly epcOwner = new Map<string, number>();
  private readonly trackerOwner = new Map<string, number>();

  constructor(private readonly link: ShardLink) {
    siteShards([], link.count);
    if (!Number.isInteger(link.index) || link.index < 0 || link.index >= link.count) {
      throw new RangeError(`shard index must be an integer from 0 to ${link.count - 1}, not ${link.index}`);
    }
  }

  get index(): number {
    return this.link.index;
  }

  get count(): number {
    return this.link.count;
  }

  get sharded(): boolean {
    return this.link.count > 1;
  }

  /** Shard 0: refuses what no shard owns (unknown gateways and topics), writes prices, delivers webhooks. */
  get leads(): boolean {
    return this.link.index === 0;
  }

  /**
   * Takes gateways in (all of them, or new ones) and reassigns sites when there are new ones. Returns
   * the known sites that changed shard: none, unless two registrations raced within one refresh.
   */
  putGateways(gateways: Iterable<{ id: string } & SiteRegistration>): string[] {
    let added = false;
    for (const g of gateways) {
      if (this.registrations.has(g.id)) continue;
      this.registrations.set(g.id, { siteId: g.siteId, createdAt: g.createdAt });
      added = true;
    }
    if (!added) return [];
    const next = siteShards(this.registrations.values(), this.link.count);
    const moved = [...this.sites].filter(([site, shard]) => next.get(site) !== shard).map(([site]) => site);
    this.sites = next;
    return moved;
  }

  /** A site nobody registered a gateway at yet belongs to shard 0 (a pledge needs one, so it is transient). */
  shardOfSite(siteId: string): number {
    return this.sites.get(siteId) ?? 0;
  }

  ownsSite(siteId: string): boolean {
    return !this.sharded || this.shardOfSite(siteId) === this.link.index;
  }

  /**
   * Remembers a pledge another shard owns, so its tags and trackers seen here reach that shard.
   * True when it is new here (or its items or trackers changed).
   */
  putForeignPledge(pledge: Pick<Pledge, 'id' | 'siteId' | 'items' | 'trackers'>): boolean {
    const shard = this.shardOfSite(pledge.siteId);
    const epcs = pledge.items.map((i) => i.epc);
    const trackers = pledge.trackers ?? [];
    const held = this.foreign.get(pledge.id);
    if (held?.shard === shard && sameList(held.epcs, epcs) && sameList(held.trackers, trackers)) return false;
    for (const epc of held?.epcs ?? []) this.epcOwner.delete(epc);
    for (const t of held?.trackers ?? []) this.trackerOwner.delete(t);
    this.foreign.set(pledge.id, { shard, epcs, trackers });
    for (const epc of epcs) this.epcOwner.set(epc, shard);
    for (const t of trackers) this.trackerOwner.set(t, shard);
    return true;
  }

  isForeignPledge(pledgeId: string): boolean {
    return this.foreign.has(pledgeId);
  }

  /** The shard owning the pledge of an EPC, when that is another shard. */
  ownerOfEpc(epc: string): number | undefined {
    return this.epcOwner.get(epc);
  }

  /** The shard owning the pledge a tracker watches, when that is another shard. */
  ownerOfTracker(trackerId: string): number | undefined {
    return this.trackerOwner.get(trackerId);
  }

  share(news: ShardNews, to: number | null): void {
    if (this.sharded) this.link.share(news, to);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
