/**
 * The prices and FX rates ingest values pledges at: the newest per commodity and per currency pair,
 * from the feed on MQTT and, by polling the state store, from the API. Like the store, it only ever
 * moves to a newer time, so prices arriving out of order or twice change nothing.
 */
import { fxFactor, type FxRate, type PriceRecord } from '@pledgewatch/common';

/** What changed: pledges of these commodities, or owing in these currencies, are to be revalued. */
export interface PriceChanges {
  commodities: Set<string>;
  currencies: Set<string>;
}

const pair = (base: string, quote: string) => `${base}/${quote}`;

export class PriceBook {
  private readonly prices = new Map<string, { record: PriceRecord; atMs: number }>();
  private readonly rates = new Map<string, { record: FxRate; atMs: number }>();

  price(commodity: string): PriceRecord | null {
    return this.prices.get(commodity)?.record ?? null;
  }

  /** When the held price of a commodity was set (epoch ms), NaN without one: spares a parse per look. */
  priceAtMs(commodity: string): number {
    return this.prices.get(commodity)?.atMs ?? Number.NaN;
  }

  /** Loan-currency units per price-currency unit (common's fxFactor: the newer direction wins). */
  rate(from: string, to: string): number | null {
    if (from === to) return 1;
    return fxFactor(from, to, this.rates.get(pair(from, to))?.record ?? null, this.rates.get(pair(to, from))?.record ?? null);
  }

  /** Takes a price in if it is newer than the one held; true when it was. */
  putPrice(price: PriceRecord): boolean {
    const atMs = Date.parse(price.at);
    const held = this.prices.get(price.commodity);
    if (held !== undefined && !(atMs > held.atMs)) return false;
    this.prices.set(price.commodity, { record: price, atMs });
    return true;
  }

  putRate(rate: FxRate): boolean {
    const atMs = Date.parse(rate.at);
    const key = pair(rate.base, rate.quote);
    const held = this.rates.get(key);
    if (held !== undefined && !(atMs > held.atMs)) return false;
    this.rates.set(key, { record: rate, atMs });
    return true;
  }

  /** Takes in what the store lists; says what changed. */
  takeAll(prices: readonly PriceRecord[], rates: readonly FxRate[]): PriceChanges {
    const changes: PriceChanges = { commodities: new Set(), currencies: new Set() };
    for (const p of prices) if (this.putPrice(p)) changes.commodities.add(p.commodity);
    for (const r of rates) {
      if (!this.putRate(r)) continue;
      changes.currencies.add(r.base);
      changes.currencies.add(r.quote);
    }
    return changes;
  }
}
