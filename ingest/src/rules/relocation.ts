/**
 * RELOCATION: pledged goods seen outside the pledge — a tag in a zone or at a site the pledge does not
 * name, or a tracker outside the pledge's geofence. Released goods are no longer pledged and may go.
 */
import { outsideByM, type Evidence } from '@pledgewatch/common';
import { firstBy, iso, qty } from './format.ts';
import type { Condition, PledgeFacts, Rule } from './types.ts';

export const relocation: Rule = (f) => [...taggedGoods(f), ...trackers(f)];

function taggedGoods(f: PledgeFacts): Condition[] {
  const { pledge, quantities: q, config } = f;
  if (q.relocated <= 0) return [];
  const moved = f.items().filter((i) => i.state === 'relocated');
  const offSite = moved.some((i) => i.tag?.siteId !== pledge.siteId);
  const critical = offSite || (q.pledged > 0 && q.relocated / q.pledged >= config.relocation.criticalShare);
  const where = [...new Set(moved.map((i) => (i.tag?.siteId === pledge.siteId ? i.tag.zone : `${i.tag?.siteId ?? '?'}/${i.tag?.zone ?? '?'}`)))].sort();
  const at = iso(f.now);
  return [
    {
      type: 'RELOCATION',
      subject: 'tags',
      severity: critical ? 'critical' : 'warning',
      summary: `${qty(q.relocated)} ${pledge.unit} of pledged goods seen outside the pledge, in ${where.join(', ')}`,
      confirmMs: config.relocation.confirmationDelayMs,
      holdMs: config.lifecycle.holdMs,
      evidence: (): Evidence[] => [
        {
          kind: 'relocated-tags',
          at,
          total: moved.length,
          tags: firstBy(moved, (i) => i.epc, config.evidenceLimit).map((i) => ({
            epc: i.epc,
            quantity: i.quantity,
            siteId: i.tag?.siteId ?? '',
            zone: i.tag?.zone ?? '',
            gatewayId: i.tag?.gatewayId ?? '',
            readerId: i.tag?.readerId ?? '',
            seenAt: i.tag?.lastSeenAt ?? '',
          })),
        },
      ],
    },
  ];
}

function trackers(f: PledgeFacts): Condition[] {
  const fence = f.pledge.geofence;
  if (fence === undefined) return [];
  const out: Condition[] = [];
  for (const t of f.trackers) {
    if (t.position === null) continue;
    const outside = outsideByM(fence, t.position);
    if (outside <= 0) continue;
    const position = t.position;
    out.push({
      type: 'RELOCATION',
      subject: `tracker:${t.trackerId}`,
      severity: 'critical',
      summary: `Tracker ${t.trackerId} is outside the pledge's geofence`,
      confirmMs: f.config.relocation.confirmationDelayMs,
      holdMs: f.config.lifecycle.holdMs,
      evidence: () => [
        { kind: 'position', at: position.at, trackerId: t.trackerId, lat: position.lat, lon: position.lon, outsideByM: Math.round(outside) },
      ],
    });
  }
  return out;
}
