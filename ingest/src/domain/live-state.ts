/**
 * What ingest knows now, in memory: the tags, readers, gateways and pledges of the sites this
 * instance serves. It is loaded from the state store at start and changed only after a batch
 * has been committed there, so the store stays the truth and a restart loses nothing.
 */
import {
  readerKey,
  releasedGoods,
  type Pledge,
  type ReaderHealth,
  type ReaderIsUp,
  type Release,
  type ReleasedGoods,
  type TagState,
} from '@pledgewatch/common';
import { PledgeTally } from './tally.ts';

export interface GatewayInfo {
  id: string;
  siteId: string;
  online: boolean | null;
}

export const zoneKey = (gatewayId: string, readerId: string, zone: string): string => `${gatewayId}/${readerId}/${zone}`;

export class LiveState {
  readonly tags = new Map<string, TagState>();
  readonly readers = new Map<string, ReaderHealth>();
  readonly gateways = new Map<string, GatewayInfo>();
  readonly pledges = new Map<string, Pledge>();
  readonly pledgeOfEpc = new Map<string, string>();
  /** Present tags by the (gateway, reader, zone) that last saw them: what a snapshot resynchronises. */
  private readonly presentAt = new Map<string, Set<string>>();
  private readonly releases = new Map<string, { ids: Set<string>; goods: ReleasedGoods; records: Release[] }>();
  /** Each pledge's quantities, kept current tag by tag for the rules. */
  private readonly tallies = new Map<string, PledgeTally>();

  readonly readerIsUp: ReaderIsUp = (gatewayId, readerId) =>
    this.gateways.get(gatewayId)?.online !== false && this.readers.get(readerKey(gatewayId, readerId))?.connected !== false;

  putTag(tag: TagState): void {
    const before = this.tags.get(tag.epc);
    if (before?.present) this.presentAt.get(zoneKey(before.gatewayId, before.readerId, before.zone))?.delete(tag.epc);
    this.tags.set(tag.epc, tag);
    const pledgeId = this.pledgeOfEpc.get(tag.epc);
    if (pledgeId !== undefined) this.tallies.get(pledgeId)?.move(tag.epc, before, tag);
    if (tag.present) {
      const key = zoneKey(tag.gatewayId, tag.readerId, tag.zone);
      let set = this.presentAt.get(key);
      if (set === undefined) this.presentAt.set(key, (set = new Set()));
      set.add(tag.epc);
    }
  }

  presentIn(gatewayId: string, readerId: string, zone: string): ReadonlySet<string> {
    return this.presentAt.get(zoneKey(gatewayId, readerId, zone)) ?? new Set();
  }

  putReader(reader: ReaderHealth): void {
    this.readers.set(readerKey(reader.gatewayId, reader.readerId), reader);
  }

  putPledge(pledge: Pledge): void {
    const before = this.pledges.get(pledge.id);
    for (const item of before?.items ?? []) this.pledgeOfEpc.delete(item.epc);
    this.pledges.set(pledge.id, pledge);
    for (const item of pledge.items) this.pledgeOfEpc.set(item.epc, pledge.id);
    this.recount(pledge.id);
  }

  /** Takes in a release record; false when it is already known. */
  putRelease(release: Release): boolean {
    let entry = this.releases.get(release.pledgeId);
    if (entry?.ids.has(release.id)) return false;
    if (entry === undefined) this.releases.set(release.pledgeId, (entry = { ids: new Set(), goods: releasedGoods([]), records: [] }));
    entry.ids.add(release.id);
    entry.records.push(release);
    entry.goods = releasedGoods(entry.records);
    this.recount(release.pledgeId);
    return true;
  }

  releasedOf(pledgeId: string): ReleasedGoods {
    return this.releases.get(pledgeId)?.goods ?? releasedGoods([]);
  }

  tallyOf(pledgeId: string): PledgeTally | undefined {
    return this.tallies.get(pledgeId);
  }

  private recount(pledgeId: string): void {
    const pledge = this.pledges.get(pledgeId);
    if (pledge === undefined) return;
    this.tallies.set(pledgeId, PledgeTally.build(pledge, this.releasedOf(pledgeId), (epc) => this.tags.get(epc)));
  }

  pledgesAtSite(siteId: string): Pledge[] {
    return [...this.pledges.values()].filter((p) => p.siteId === siteId);
  }
}
