/**
 * What ingest knows now, in memory: the tags, readers, gateways and pledges of the sites this
 * instance serves. It is loaded from the state store at start. A batch is applied to it before it
 * commits, for the rules to look at, and taken back if it does not commit (see BatchWork); the
 * checkpointer writes committed states only, so the store stays the truth and a restart loses nothing.
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
import type { CheckpointedTag } from '../checkpointer.ts';
import { PledgeTally } from './tally.ts';

export interface GatewayInfo {
  id: string;
  siteId: string;
  online: boolean | null;
}

/**
 * Everything ingest holds about one EPC, reached with one lookup. A tag event used to touch half a
 * dozen maps keyed by EPC (tags, the pledge of each EPC, the pledge's quantity of each, the batch's
 * changes, the checkpoint queue); lookups in large string-keyed maps were a fifth of ingest's time.
 */
export class TagEntry implements CheckpointedTag {
  /** Its state now, the batch being applied included (undefined: never seen, or taken back). */
  state: TagState | undefined = undefined;
  /** Its state as last committed: what a checkpoint writes. */
  committed: TagState | undefined = undefined;
  /** Waiting for the next checkpoint (see Checkpointer). */
  pending = false;
  /** The pledge counting it, and its quantity there in micro-units (undefined: released). */
  pledgeId: string | undefined = undefined;
  quantity: number | undefined = undefined;
  /** The present-tags set it is in (see PresentIndex), while present. */
  presentIn: Set<TagEntry> | undefined = undefined;
  /** The batch that last changed it (BatchWork's serial), and its state before that batch. */
  batch = 0;
  before: TagState | undefined = undefined;

  constructor(readonly epc: string) {}
}

/**
 * Present tags by the (gateway, reader, zone) that last saw them, as nested maps: a tag event adds to
 * one of these, and a composite string key would cost a concatenation and a fresh hash each time
 * (these maps are small, their keys short).
 */
class PresentIndex {
  private readonly byGateway = new Map<string, Map<string, Map<string, Set<TagEntry>>>>();
  /** The zones of the reader added to last: a batch's tag events nearly all come from one reader. */
  private last: { gatewayId: string; readerId: string; zones: Map<string, Set<TagEntry>> } | undefined = undefined;

  get(gatewayId: string, readerId: string, zone: string): Set<TagEntry> | undefined {
    return this.byGateway.get(gatewayId)?.get(readerId)?.get(zone);
  }

  add(entry: TagEntry, tag: TagState): void {
    const last = this.last;
    const zones = last !== undefined && last.gatewayId === tag.gatewayId && last.readerId === tag.readerId ? last.zones : this.zonesOf(tag);
    let set = zones.get(tag.zone);
    if (set === undefined) zones.set(tag.zone, (set = new Set()));
    set.add(entry);
    entry.presentIn = set;
  }

  private zonesOf(tag: TagState): Map<string, Set<TagEntry>> {
    let readers = this.byGateway.get(tag.gatewayId);
    if (readers === undefined) this.byGateway.set(tag.gatewayId, (readers = new Map<string, Map<string, Set<TagEntry>>>()));
    let zones = readers.get(tag.readerId);
    if (zones === undefined) readers.set(tag.readerId, (zones = new Map<string, Set<TagEntry>>()));
    this.last = { gatewayId: tag.gatewayId, readerId: tag.readerId, zones };
    return zones;
  }
}

export class LiveState {
  private readonly entries = new Map<string, TagEntry>();
  /** The entry looked up last: an event handler often asks for a tag, then puts it. */
  private last: TagEntry | undefined = undefined;
  private batches = 0;
  readonly readers = new Map<string, ReaderHealth>();
  readonly gateways = new Map<string, GatewayInfo>();
  readonly pledges = new Map<string, Pledge>();
  /** Present tags by the (gateway, reader, zone) that last saw them: what a snapshot resynchronises. */
  private readonly presentAt = new PresentIndex();
  private readonly releases = new Map<string, { ids: Set<string>; goods: ReleasedGoods; records: Release[] }>();
  /** Each pledge's quantities, kept current tag by tag for the rules. */
  private readonly tallies = new Map<string, PledgeTally>();

  readonly readerIsUp: ReaderIsUp = (gatewayId, readerId) =>
    this.gateways.get(gatewayId)?.online !== false && this.readers.get(readerKey(gatewayId, readerId))?.connected !== false;

  tagOf(epc: string): TagState | undefined {
    return this.find(epc)?.state;
  }

  get tagCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state !== undefined) n++;
    return n;
  }

  *tags(): Iterable<TagState> {
    for (const e of this.entries.values()) if (e.state !== undefined) yield e.state;
  }

  /** The entry of an EPC, made when it is new. */
  entryOf(epc: string): TagEntry {
    let entry = this.find(epc);
    if (entry === undefined) {
      this.entries.set(epc, (entry = new TagEntry(epc)));
      this.last = entry;
    }
    return entry;
  }

  /** A number for a batch about to be applied (BatchWork), telling its changes from earlier ones. */
  nextBatch(): number {
    return ++this.batches;
  }

  /** Makes `tag` the committed state of its tag (loaded from the store, or handed over by another shard). */
  putTag(tag: TagState): TagEntry {
    const entry = this.entryOf(tag.epc);
    this.apply(entry, tag);
    entry.committed = tag;
    return entry;
  }

  /** Makes `tag` an entry's state, moving it in the present index and its pledge's tally. */
  apply(entry: TagEntry, tag: TagState | undefined): void {
    const before = entry.state;
    if (entry.presentIn !== undefined) {
      entry.presentIn.delete(entry);
      entry.presentIn = undefined;
    }
    entry.state = tag;
    if (tag?.present) this.presentAt.add(entry, tag);
    const q = entry.quantity;
    if (q !== undefined) this.tallies.get(entry.pledgeId as string)?.move(q, before, tag);
  }

  /** Puts an entry back to a state it had (undefined: not known), as when a batch is taken back. */
  restore(entry: TagEntry, state: TagState | undefined): void {
    this.apply(entry, state);
    if (state === undefined && entry.pledgeId === undefined && entry.committed === undefined) this.forget(entry);
  }

  /** EPCs the given reader currently holds present in a zone (a copy). */
  presentIn(gatewayId: string, readerId: string, zone: string): Set<string> {
    const set = this.presentAt.get(gatewayId, readerId, zone);
    return new Set(set === undefined ? [] : [...set].map((e) => e.epc));
  }

  putReader(reader: ReaderHealth): void {
    this.readers.set(readerKey(reader.gatewayId, reader.readerId), reader);
  }

  /** Puts a reader's health back to what it was (undefined: not known), as when a batch is taken back. */
  restoreReader(key: string, health: ReaderHealth | undefined): void {
    if (health === undefined) this.readers.delete(key);
    else this.readers.set(key, health);
  }

  putPledge(pledge: Pledge): void {
    const before = this.pledges.get(pledge.id);
    for (const item of before?.items ?? []) {
      const entry = this.find(item.epc);
      if (entry?.pledgeId !== pledge.id) continue;
      entry.pledgeId = undefined;
      entry.quantity = undefined;
      if (entry.state === undefined && entry.committed === undefined) this.forget(entry);
    }
    this.pledges.set(pledge.id, pledge);
    for (const item of pledge.items) this.entryOf(item.epc).pledgeId = pledge.id;
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

  /** Counts a pledge afresh, and tells each of its tags what it counts for now. */
  private recount(pledgeId: string): void {
    const pledge = this.pledges.get(pledgeId);
    if (pledge === undefined) return;
    const tally = PledgeTally.build(pledge, this.releasedOf(pledgeId), (epc) => this.tagOf(epc));
    this.tallies.set(pledgeId, tally);
    for (const item of pledge.items) {
      const entry = this.find(item.epc);
      if (entry?.pledgeId === pledgeId) entry.quantity = tally.microQuantityOf(item.epc);
    }
  }

  pledgesAtSite(siteId: string): Pledge[] {
    return [...this.pledges.values()].filter((p) => p.siteId === siteId);
  }

  private find(epc: string): TagEntry | undefined {
    const last = this.last;
    if (last !== undefined && last.epc === epc) return last;
    const entry = this.entries.get(epc);
    if (entry !== undefined) this.last = entry;
    return entry;
  }

  private forget(entry: TagEntry): void {
    this.entries.delete(entry.epc);
    if (this.last === entry) this.last = undefined;
  }
}
