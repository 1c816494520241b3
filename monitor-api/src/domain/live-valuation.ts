/**
 * "Load everything a pledge's value depends on, then value it": the one place that turns stored state
 * into a live valuation, so the API, ingest's LTV rules and certificates agree to the cent.
 */
import {
  pledgeQuantities,
  readerAvailability,
  releasedGoods,
  valuePledge,
  type Pledge,
  type ReaderIsUp,
  type TagState,
  type Valuation,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';

/** The part of the state store a valuation reads; a caching wrapper (ingest) can stand in for it. */
export type ValuationSource = Pick<
  StateStore,
  'getTags' | 'listReaders' | 'listGateways' | 'getPrice' | 'getPledgeStatus' | 'listReleases'
>;

export interface LiveValuationOptions {
  /** A price older than this is stale: shown, but nothing counts as eligible at it. */
  maxPriceAgeMs?: number;
  /** Loan-currency units per price-currency unit, when they differ (no FX source yet: null). */
  fxRate?: number | null;
  /**
   * Reader health loaded once for many pledges (see `loadReaderAvailability`); without it each call
   * loads readers and gateways itself.
   */
  readerIsUp?: ReaderIsUp;
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

export async function liveValuation(
  store: ValuationSource,
  pledge: Pledge,
  now: number,
  opts: LiveValuationOptions = {},
): Promise<Valuation> {
  const [tags, readerIsUp, price, previousStatus, releases] = await Promise.all([
    store.getTags(pledge.items.map((item) => item.epc)),
    opts.readerIsUp ?? loadReaderAvailability(store),
    store.getPrice(pledge.commodity),
    store.getPledgeStatus(pledge.id),
    store.listReleases(pledge.tenant, pledge.id),
  ]);
  const tagByEpc = new Map<string, TagState>(tags.map((t) => [t.epc, t]));
  // Released goods are out of the pledge, as ingest's rules see it too.
  const quantities = pledgeQuantities(pledge, (epc) => tagByEpc.get(epc), readerIsUp, releasedGoods(releases));
  return valuePledge({
    pledgeId: pledge.id,
    unit: pledge.unit,
    loan: pledge.loan,
    haircut: pledge.haircut,
    limits: pledge.limits,
    quantities,
    price,
    fxRate: opts.fxRate ?? null,
    now,
    maxPriceAgeMs: opts.maxPriceAgeMs,
    previousStatus: previousStatus ?? undefined,
  });
}
