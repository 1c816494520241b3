/**
 * "Load everything a pledge's value depends on, then value it": the one place that turns stored state
 * into a live valuation, so the API, ingest's LTV rules and certificates agree to the cent.
 */
import {
  fxFactor,
  maxPriceAgeFor,
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
  maxPriceAgeMs?: number | undefined;
  /** Per commodity, its own maximum price age (ingest honours the same map: its PRICE_STALE agrees). */
  maxPriceAgeByCommodityMs?: Readonly<Record<string, number>> | undefined;
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
  /** Quantities with the recorded releases applied. */
  quantities: Quantities;
  /** Quantities with the given releases applied (the recorded ones: `quantities`). */
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

/** The parts of a valuation that come from the store; the pledge's terms come from the pledge. */
export interface ValuationParts {
  quantities: Quantities;
  price: PriceRecord | null;
  fxRate: number | null;
  previousStatus: ValuationStatus | null;
}

/** The valuation input of a pledge from its parts: the one composition the API's paths share. */
function valuationInput(
  pledge: Pledge,
  parts: Omit<ValuationParts, 'quantities' | 'previousStatus'>,
  now: number,
  opts: LiveValuationOptions,
): Omit<ValuationInput, 'quantities' | 'previousStatus'> {
  return {
    pledgeId: pledge.id,
    unit: pledge.unit,
    loan: pledge.loan,
    haircut: pledge.haircut,
    limits: pledge.limits,
    price: parts.price,
    fxRate: parts.fxRate,
    now,
    maxPriceAgeMs: maxPriceAgeOf(pledge, opts),
  };
}

/** The maximum price age that applies to a pledge's commodity. */
export function maxPriceAgeOf(pledge: Pick<Pledge, 'commodity'>, opts: LiveValuationOptions): number {
  return maxPriceAgeFor(pledge.commodity, { defaultMs: opts.maxPriceAgeMs, byCommodityMs: opts.maxPriceAgeByCommodityMs });
}

/** Values a pledge from its parts at `now`. */
export function valueParts(pledge: Pledge, parts: ValuationParts, now: number, opts: LiveValuationOptions = {}): Valuation {
  return valuePledge({
    ...valuationInput(pledge, parts, now, opts),
    // A copy: the parts may be cached and shared by many answers.
    quantities: { ...parts.quantities },
    previousStatus: parts.previousStatus ?? undefined,
  });
}

/** A pledge's tags and releases, and the quantities they give with its recorded releases applied. */
export async function loadQuantities(
  store: Pick<ValuationSource, 'getTags' | 'listReleases'>,
  pledge: Pledge,
  readerIsUp: ReaderIsUp | Promise<ReaderIsUp>,
): Promise<{ releases: Release[]; quantities: Quantities; quantitiesWith: (released: ReleasedGoods) => Quantities }> {
  const [tags, isUp, releases] = await Promise.all([
    store.getTags(pledge.items.map((item) => item.epc)),
    readerIsUp,
    store.listReleases(pledge.tenant, pledge.id),
  ]);
  const tagByEpc = new Map<string, TagState>(tags.map((t) => [t.epc, t]));
  // Released goods are out of the pledge, as ingest's rules see it too.
  const quantitiesWith = (released: ReleasedGoods) => pledgeQuantities(pledge, (epc) => tagByEpc.get(epc), isUp, released);
  return { releases, quantities: quantitiesWith(releasedGoods(releases)), quantitiesWith };
}

/** The price of a commodity and the FX factor from its currency into `currency`. */
export async function loadMarket(
  store: Pick<ValuationSource, 'getPrice' | 'getFxRate'>,
  commodity: string,
  currency: string,
): Promise<{ price: PriceRecord | null; fxRate: number | null }> {
  const price = await store.getPrice(commodity);
  return { price, fxRate: price === null ? null : await loadFxRate(store, price.currency, currency) };
}

export async function loadValuationBasis(
  store: ValuationSource,
  pledge: Pledge,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<ValuationBasis> {
  const [held, market, previousStatus] = await Promise.all([
    loadQuantities(store, pledge, opts.readerIsUp ?? loadReaderAvailability(store)),
    loadMarket(store, pledge.commodity, pledge.loan.currency),
    store.getPledgeStatus(pledge.id),
  ]);
  return {
    ...market,
    previousStatus,
    releases: held.releases,
    quantities: held.quantities,
    quantitiesWith: held.quantitiesWith,
    input: valuationInput(pledge, market, now, opts),
  };
}

export function valueBasis(basis: ValuationBasis): Valuation {
  return valuePledge({ ...basis.input, quantities: basis.quantities, previousStatus: basis.previousStatus ?? undefined });
}

export async function liveValuation(
  store: ValuationSource,
  pledge: Pledge,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<Valuation> {
  return valueBasis(await loadValuationBasis(store, pledge, now, opts));
}
