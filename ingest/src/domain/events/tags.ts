/** tag.arrived, tag.moved, tag.departed: where a tag is, as its gateway saw it. */
import { normaliseEpc, type EventOf, type TagState } from '@pledgewatch/common';
import type { BatchWork } from '../work.ts';

function seen(work: BatchWork, epc: string, zone: string, readerId: string, at: string, present = true, lastSeenAt = at): TagState {
  return {
    epc: normaliseEpc(epc),
    gatewayId: work.gateway.id,
    siteId: work.gateway.siteId,
    zone,
    readerId,
    present,
    lastSeenAt,
    updatedAt: at,
  };
}

export function tagArrived(work: BatchWork, e: EventOf<'tag.arrived'>): void {
  work.putTag(seen(work, e.epc, e.zone, e.readerId, e.at));
}

export function tagMoved(work: BatchWork, e: EventOf<'tag.moved'>): void {
  work.putTag(seen(work, e.epc, e.zone, e.readerId, e.at));
}

/** A departure counts only where the tag was: if it has since turned up elsewhere, that stands. */
export function tagDeparted(work: BatchWork, e: EventOf<'tag.departed'>): void {
  const epc = normaliseEpc(e.epc);
  const current = work.tagOf(epc);
  const sameSpot = current === undefined || (current.gatewayId === work.gateway.id && current.zone === e.zone);
  if (!sameSpot) return;
  work.putTag(seen(work, epc, e.zone, e.readerId, e.at, false, e.lastSeenAt));
}
