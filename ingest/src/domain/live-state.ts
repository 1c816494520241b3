/**
 * What ingest knows now, in memory: the tags, readers, gateways and pledges of the sites this
 * instance serves. It is loaded from the state store at start and changed only after a batch
 * has been committed there, so the store stays the truth and a restart loses nothing.
 */
import { readerKey, type Pledge, type ReaderHealth, type ReaderIsUp, type TagState } from '@pledgewatch/common';

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

  readonly readerIsUp: ReaderIsUp = (gatewayId, readerId) =>
    this.gateways.get(gatewayId)?.online !== false && this.readers.get(readerKey(gatewayId, readerId))?.connected !== false;

  putTag(tag: TagState): void {
    const before = this.tags.get(tag.epc);
    if (before?.present) this.presentAt.get(zoneKey(before.gatewayId, before.readerId, before.zone))?.delete(tag.epc);
    this.tags.set(tag.epc, tag);
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
  }

  pledgesAtSite(siteId: string): Pledge[] {
    return [...this.pledges.values()].filter((p) => p.siteId === siteId);
  }
}
