/**
 * A release order: the goods it names must be the pledge's and not released yet; then it is checked
 * against the margin-call limit (common's checkRelease) and recorded only when it keeps the LTV below it.
 */
import {
  checkRelease,
  isoTime,
  normaliseEpc,
  PwError,
  type Pledge,
  type Release,
  type Valuation,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import { randomUUID } from 'node:crypto';
import { loadValuationBasis, type LiveValuationOptions, type ValuationSource } from './live-valuation.ts';

export interface ReleaseOrder {
  epcs?: string[] | undefined;
  quantity?: number | undefined;
  reason: string;
}

export async function orderRelease(
  store: ValuationSource & Pick<StateStore, 'createRelease'>,
  pledge: Pledge,
  order: ReleaseOrder,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<{ release: Release; after: Valuation }> {
  const basis = await loadValuationBasis(store, pledge, now, opts);
  const epcs = (order.epcs ?? []).map(normaliseEpc);
  checkGoods(pledge, basis.releases, epcs, order.quantity);
  const decision = checkRelease(
    { valuation: basis.input, releases: basis.releases, quantitiesWith: basis.quantitiesWith },
    { epcs, quantity: order.quantity },
  );
  if (!decision.accepted) {
    const ltv = decision.after.ltv;
    throw new PwError(
      'RELEASE_BREAKS_LIMIT',
      `After this release the LTV would be ${ltv === null ? 'unbounded (nothing eligible)' : String(ltv)}, ` +
        `at or above the margin-call limit ${pledge.limits.marginCallLtv}; at most ${decision.maxQuantity} ${pledge.unit} may be released now`,
      [],
      { ltv, marginCallLtv: pledge.limits.marginCallLtv, maxQuantity: decision.maxQuantity, unit: pledge.unit },
    );
  }
  const release: Release = {
    id: `rel_${randomUUID()}`,
    tenant: pledge.tenant,
    pledgeId: pledge.id,
    epcs,
    ...(order.quantity === undefined ? {} : { quantity: order.quantity }),
    reason: order.reason,
    createdAt: isoTime(now),
  };
  await store.createRelease(release);
  return { release, after: decision.after };
}

/** Refuses orders that name nothing, goods outside the pledge, goods released already, or too much. */
function checkGoods(pledge: Pledge, released: readonly Release[], epcs: readonly string[], quantity: number | undefined): void {
  if (epcs.length === 0 && quantity === undefined) {
    throw new PwError('VALIDATION', 'A release names epcs, a quantity, or both', [{ path: '/epcs', reason: 'epcs or quantity is required' }]);
  }
  const items = new Set(pledge.items.map((i) => i.epc));
  const gone = new Set(released.flatMap((r) => r.epcs));
  const seen = new Set<string>();
  const errors: { path: string; reason: string }[] = [];
  epcs.forEach((epc, i) => {
    if (!items.has(epc)) errors.push({ path: `/epcs/${i}`, reason: 'not an item of this pledge' });
    else if (gone.has(epc)) errors.push({ path: `/epcs/${i}`, reason: 'already released' });
    else if (seen.has(epc)) errors.push({ path: `/epcs/${i}`, reason: 'listed twice' });
    seen.add(epc);
  });
  if (quantity !== undefined) {
    const itemsLeft = pledge.items.filter((i) => !gone.has(i.epc) && !seen.has(i.epc)).reduce((s, i) => s + i.quantity, 0);
    const pledged = (pledge.items.length === 0 ? (pledge.quantity ?? 0) : itemsLeft) - released.reduce((s, r) => s + (r.quantity ?? 0), 0);
    if (quantity > pledged + 1e-9) errors.push({ path: '/quantity', reason: `exceeds what is still pledged (${roundQ(pledged)} ${pledge.unit})` });
  }
  if (errors.length > 0) throw new PwError('VALIDATION', 'The release does not fit the pledge', errors);
}

const roundQ = (q: number): number => Math.round(q * 1e6) / 1e6;
