/**
 * "Load everything a pledge's value depends on, then value it": the one place that turns stored state
 * into a live valuation, so the API, ingest's LTV rules and certificates agree to the cent.
 */
import {
  fxFactor,
  pledgeQuantities,
  readerAvailability,
  releasedGoods,
  valuePledge,
  type Pledge,
  type PriceRecord,
  type Quantities,
  type ReaderIsUp,
  type Release,
  type ReleasedGoods,
  type TagState,
  type Valuation,
  type ValuationInput,
  type ValuationStatus,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';

/** The part of the state store a valuation reads; a caching wrapper (ingest) can stand in for it. */
export type ValuationSource = Pick<
  StateStore,
  'getTags' | 'listReaders' | 'listGateways' | 'getPrice' | 'getPledgeStatus' | 'listReleases' | 'getFxRate'
>;

export interface LiveValuationOptions {
  /** A price older than this is stale: shown, but nothing counts as eligible at it. */
  maxPriceAgeMs?: number;
  /**
   * Reader health loaded once for many pledges (see `loadReaderAvailability`); without it each call
   * loads readers and gateways itself.
   */
  readerIsUp?: ReaderIsUp;
}

/** What a pledge's valuation rests on, loaded once: the release check values it several ways. */
export interface ValuationBasis {
  price: PriceRecord | null;
  fxRate: number | null;
  previousStatus: ValuationStatus | null;
  releases: Release[];
  /** Quantities with the given releases applied (the recorded ones: `releasedGoods(releases)`). */
  quantitiesWith: (released: ReleasedGoods) => Quantities;
  /** The valuation input without quantities and previous status. */
  input: Omit<ValuationInput, 'quantities' | 'previousStatus'>;
}

/**
 * Reader health as quantities need it: a reader is down when it reported so, or when its gateway is
 * offline. The rule itself lives in common (`readerAvailability`) so ingest applies the same one.
 */
export async function loadReaderAvailability(store: Pick<StateStore, 'listReaders' | 'listGateways'>): Promise<ReaderIsUp> {
  const [readers, gateways] = await Promise.all([store.listReaders(), store.listGateways()]);
  const online = new Map(gateways.map((g) => [g.id, g.online]));
  return readerAvailability(readers, (gatewayId) => online.get(gatewayId));
}

/** Loan-currency units per price-currency unit, from the newest stored rate of either direction. */
export async function loadFxRate(store: Pick<StateStore, 'getFxRate'>, from: string, to: string): Promise<number | null> {
  if (from === to) return 1;
  const [direct, inverse] = await Promise.all([store.getFxRate(from, to), store.getFxRate(to, from)]);
  return fxFactor(from, to, direct, inverse);
}

export async function loadValuationBasis(
  store: ValuationSource,
  pledge: Pledge,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<ValuationBasis> {
  const [tags, readerIsUp, price, previousStatus, releases] = await Promise.all([
    store.getTags(pledge.items.map((item) => item.epc)),
    opts.readerIsUp ?? loadReaderAvailability(store),
    store.getPrice(pledge.commodity),
    store.getPledgeStatus(pledge.id),
    store.listReleases(pledge.tenant, pledge.id),
  ]);
  const fxRate = price === null ? null : await loadFxRate(store, price.currency, pledge.loan.currency);
  const tagByEpc = new Map<string, TagState>(tags.map((t) => [t.epc, t]));
  return {
    price,
    fxRate,
    previousStatus,
    releases,
    // Released goods are out of the pledge, as ingest's rules see it too.
    quantitiesWith: (released) => pledgeQuantities(pledge, (epc) => tagByEpc.get(epc), readerIsUp, released),
    input: {
      pledgeId: pledge.id,
      unit: pledge.unit,
      loan: pledge.loan,
      haircut: pledge.haircut,
      limits: pledge.limits,
      price,
      fxRate,
      now,
      maxPriceAgeMs: opts.maxPriceAgeMs,
    },
  };
}

export function valueBasis(basis: ValuationBasis): Valuation {
  return valuePledge({
    ...basis.input,
    quantities: basis.quantitiesWith(releasedGoods(basis.releases)),
    previousStatus: basis.previousStatus ?? undefined,
  });
}

export async function liveValuation(
  store: ValuationSource,
  pledge: Pledge,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<Valuation> {
  return valueBasis(await loadValuationBasis(store, pledge, now, opts));
}
