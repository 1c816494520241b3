/**
 * inventory.snapshot: the full list of tags a reader holds in a zone. It resynchronises ingest
 * after anything it missed: listed tags are present there, tags it had there but not listed left.
 */
import { normaliseEpc, type EventOf } from '@pledgewatch/common';
import type { BatchWork } from '../work.ts';

export function inventorySnapshot(work: BatchWork, e: EventOf<'inventory.snapshot'>): void {
  const listed = new Set(e.epcs.map(normaliseEpc));
  const before = work.presentIn(e.readerId, e.zone);
  for (const epc of listed) {
    work.putTag({
      epc,
      gatewayId: work.gateway.id,
      siteId: work.gateway.siteId,
      zone: e.zone,
      readerId: e.readerId,
      present: true,
      lastSeenAt: e.at,
      updatedAt: e.at,
    });
  }
  for (const epc of before) {
    if (listed.has(epc)) continue;
    const current = work.tagOf(epc);
    if (current !== undefined) work.putTag({ ...current, present: false, updatedAt: e.at });
  }
}
