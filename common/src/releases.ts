/**
 * Authorised releases: goods the lender lets leave (sold, loan partly repaid). Released EPCs no longer
 * belong to the pledge — they may leave without QUANTITY_LOSS or RELOCATION — and a released quantity
 * lowers what is pledged. The release API with its LTV check comes with valuation; the record is here.
 */
export interface Release {
  id: string;
  tenant: string;
  pledgeId: string;
  /** Upper-case EPCs released by name. */
  epcs: string[];
  /** Quantity released without naming items (bulk goods), in the pledge's unit. */
  quantity?: number;
  reason: string;
  createdAt: string;
}

/** All releases of one pledge folded together, as quantities and rules apply them. */
export interface ReleasedGoods {
  epcs: ReadonlySet<string>;
  quantity: number;
}

export const NOTHING_RELEASED: ReleasedGoods = Object.freeze({ epcs: new Set<string>(), quantity: 0 });

export function releasedGoods(releases: readonly Pick<Release, 'epcs' | 'quantity'>[]): ReleasedGoods {
  if (releases.length === 0) return NOTHING_RELEASED;
  const epcs = new Set<string>();
  let quantity = 0;
  for (const r of releases) {
    for (const epc of r.epcs) epcs.add(epc.toUpperCase());
    quantity += r.quantity ?? 0;
  }
  return { epcs, quantity };
}
