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

/**
 * Present tags by the (gateway, reader, zone) that last saw them, as nested maps: this is touched for
 * every tag event, and a composite string key would cost a concatenation and a fresh hash each time.
 */
class PresentIndex {
  private readonly byGateway = new Map<string, Map<string, Map<string, Set<string>>>>();

  get(tag: Pick<TagState, 'gatewayId' | 'readerId' | 'zone'>): Set<string> | undefined {
    return this.byGateway.get(tag.gatewayId)?.get(tag.readerId)?.get(tag.zone);
  }

  add(tag: TagState): void {
    let readers = this.byGateway.get(tag.gatewayId);
    if (readers === undefined) this.byGateway.set(tag.gatewayId, (readers = new Map<string, Map<string, Set<string>>>()));
    let zones = readers.get(tag.readerId);
    if (zones === undefined) readers.set(tag.readerId, (zones = new Map<string, Set<string>>()));
    let set = zones.get(tag.zone);
    if (set === undefined) zones.set(tag.zone, (set = new Set()));
    set.add(tag.epc);
  }
}

export class LiveState {
  readonly tags = new Map<string, TagState>();
  readonly readers = new Map<string, ReaderHealth>();
  readonly gateways = new Map<string, GatewayInfo>();
  readonly pledges = new Map<string, Pledge>();
  readonly pledgeOfEpc = new Map<string, string>();
  /** Present tags by the (gateway, reader, zone) that last saw them: what a snapshot resynchronises. */
  private readonly presentAt = new PresentIndex();
  private readonly releases = new Map<string, { ids: Set<string>; goods: ReleasedGoods; records: Release[] }>();
  /** Each pledge's quantities, kept current tag by tag for the rules. */
  private readonly tallies = new Map<string, PledgeTally>();

  readonly readerIsUp: ReaderIsUp = (gatewayId, readerId) =>
    this.gateways.get(gatewayId)?.online !== false && this.readers.get(readerKey(gatewayId, readerId))?.connected !== false;

  putTag(tag: TagState): void {
    const before = this.tags.get(tag.epc);
    if (before?.present) this.presentAt.get(before)?.delete(tag.epc);
    this.tags.set(tag.epc, tag);
    const pledgeId = this.pledgeOfEpc.get(tag.epc);
    if (pledgeId !== undefined) this.tallies.get(pledgeId)?.move(tag.epc, before, tag);
    if (tag.present) this.presentAt.add(tag);
  }

  presentIn(gatewayId: string, readerId: string, zone: string): ReadonlySet<string> {
    return this.presentAt.get({ gatewayId, readerId, zone }) ?? new Set();
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
