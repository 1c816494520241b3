/**
 * The release check: a release order is accepted only when the LTV after it stays below the
 * margin-call limit. Pure: the caller supplies how quantities look with a set of releases applied,
 * and the valuation inputs that do not change with a release.
 */
import type { Quantities, Valuation } from './pledge.ts';
import { releasedGoods, type ReleasedGoods, type Release } from './releases.ts';
import { valuePledge, type ValuationInput } from './valuation.ts';

export interface ReleaseRequest {
  epcs: readonly string[];
  quantity?: number | undefined;
}

export interface ReleaseCheckInput {
  /** Everything a valuation needs except the quantities (and no previous status: the check is raw). */
  valuation: Omit<ValuationInput, 'quantities' | 'previousStatus'>;
  /** The releases already recorded for the pledge. */
  releases: readonly Pick<Release, 'epcs' | 'quantity'>[];
  /** Quantities of the pledge with the given releases applied (common's pledgeQuantities). */
  quantitiesWith: (released: ReleasedGoods) => Quantities;
}

export interface ReleaseDecision {
  accepted: boolean;
  /** The valuation as it would be after the release. */
  after: Valuation;
  /**
   * The largest quantity (pledge unit, 6 decimals, rounded down) a quantity-only release could take
   * now while keeping the LTV below the margin-call limit.
   */
  maxQuantity: number;
}

/** Below the margin-call limit; with nothing owed any release is fine, with nothing eligible none is. */
export function withinMarginCall(v: Pick<Valuation, 'ltv'>, marginCallLtv: number): boolean {
  return v.ltv !== null && v.ltv < marginCallLtv;
}

export function checkRelease(input: ReleaseCheckInput, request: ReleaseRequest): ReleaseDecision {
  const limit = input.valuation.limits.marginCallLtv;
  const valueWith = (extra: ReleaseRequest): Valuation =>
    valuePledge({
      ...input.valuation,
      quantities: input.quantitiesWith(releasedGoods([...input.releases, { epcs: [...extra.epcs], quantity: extra.quantity }])),
    });
  const after = valueWith(request);
  return { accepted: withinMarginCall(after, limit), after, maxQuantity: maxReleasableQuantity(input, valueWith, limit) };
}

const DECIMALS = 1e6;

/**
 * Bisection over the quantity: the LTV after a quantity release only rises with the quantity (it is
 * taken from missing, relocated and unknown goods first, then from what is present), so the check is
 * monotone and the search finds the largest accepted quantity to a millionth of the pledge unit.
 */
function maxReleasableQuantity(
  input: ReleaseCheckInput,
  valueWith: (r: ReleaseRequest) => Valuation,
  limit: number,
): number {
  const ok = (quantity: number): boolean => withinMarginCall(valueWith({ epcs: [], quantity }), limit);
  const pledged = input.quantitiesWith(releasedGoods(input.releases)).pledged;
  if (pledged <= 0 || !ok(0)) return 0;
  let lo = 0; // in millionths, known ok
  let hi = Math.round(pledged * DECIMALS); // upper bound
  if (ok(hi / DECIMALS)) return hi / DECIMALS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid / DECIMALS)) lo = mid;
    else hi = mid;
  }
  return lo / DECIMALS;
}
