/** What the API shows of stored records: explicit mappings, so internal fields never leak by accident. */
import type { Pledge, Valuation } from '@pledgewatch/common';

export function pledgeView(p: Pledge) {
  return {
    id: p.id,
    borrower: p.borrower,
    siteId: p.siteId,
    zones: p.zones,
    commodity: p.commodity,
    unit: p.unit,
    items: p.items,
    ...(p.quantity === undefined ? {} : { quantity: p.quantity }),
    scales: p.scales,
    loan: p.loan,
    haircut: p.haircut,
    limits: p.limits,
    quantityTolerance: p.quantityTolerance,
    ...(p.storage === undefined ? {} : { storage: p.storage }),
    ...(p.geofence === undefined ? {} : { geofence: p.geofence }),
    ...(p.trackers === undefined ? {} : { trackers: p.trackers }),
    ...(p.rules === undefined ? {} : { rules: p.rules }),
    createdAt: p.createdAt,
  };
}

export function pledgeSummary(p: Pledge, valuation: Valuation) {
  const { items, ...rest } = pledgeView(p);
  return { ...rest, itemCount: items.length, valuation };
}
