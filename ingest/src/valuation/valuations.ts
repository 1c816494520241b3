/**
 * Each pledge's value as ingest sees it, and the status ingest publishes for it: what lenders are told
 * by pledge.status_changed, and where the API's LTV hysteresis starts from. `assess` only reads (a
 * batch's look may still be dropped as a duplicate); `take` keeps what was committed.
 *
 * - The value is common's valuePledge on the same quantities the API computes, at the newest price and
 *   FX rate ingest holds, with the published status as the previous one.
 * - The status to publish is the value's, except: while the LTV cannot be measured (no usable price:
 *   none yet, stale, or not convertible) it stays as published — PRICE_STALE says why; and a worse
 *   status that rests only on goods out of sight (a reader or gateway down) waits the monitoring-gap
 *   confirmation delay, so a reader restart does not call a margin.
 * - Computing a value is cached per pledge until one of its inputs changes: the rules' tick looks at
 *   every pledge every second, and most of them have not moved.
 */
import {
  isoTime,
  maxPriceAgeFor,
  valuePledge,
  type Pledge,
  type PriceRecord,
  type Quantities,
  type StatusChange,
  type Valuation,
  type ValuationInput,
  type ValuationStatus,
} from '@pledgewatch/common';
import type { SeriesPoint } from '@pledgewatch/store';
import type { RuleConfig } from '../rules/config.ts';
import type { ValuationFact } from '../rules/types.ts';
import { PriceBook } from './price-book.ts';

const RANK: Record<ValuationStatus, number> = { ok: 0, warning: 1, margin_call: 2, liquidation: 3 };

/**
 * What a cached value was computed from — the pledge's terms, price, FX rate, previous status, whether
 * the price is stale, and quantities: the same inputs give the same value.
 */
interface Memo {
  inputs: readonly [Pledge, PriceRecord | null, number | null, ValuationStatus, boolean];
  quantities: Quantities;
  value: Valuation;
}

/** The LTV can be measured: a price that is fresh and converts to the pledge's unit and currency. */
export function measurable(v: Valuation): boolean {
  return v.price !== null && !v.price.stale && v.issues.length === 0;
}

export class PledgeValuations {
  readonly prices = new PriceBook();
  private readonly published = new Map<string, ValuationStatus>();
  private readonly blindSince = new Map<string, number>();
  private readonly memo = new Map<string, Memo>();
  /** The last committed value of each pledge, and which of them the series has not seen yet. */
  private readonly latest = new Map<string, Valuation>();
  private readonly unsampled = new Set<string>();
  private readonly written = new Map<string, string>();

  constructor(private readonly config: RuleConfig['valuation']) {}

  /** The status the store has published for a pledge (null: never, which reads as ok). */
  setPublished(pledgeId: string, status: ValuationStatus | null): void {
    if (status === null) this.published.delete(pledgeId);
    else this.published.set(pledgeId, status);
  }

  assess(pledge: Pledge, quantities: Quantities, now: number): ValuationFact {
    const published = this.published.get(pledge.id) ?? 'ok';
    const price = this.prices.price(pledge.commodity);
    const fxRate = price === null ? null : this.prices.rate(price.currency, pledge.loan.currency);
    const maxPriceAgeMs = maxPriceAgeFor(pledge.commodity, this.config.priceAges);
    const input: ValuationInput = {
      pledgeId: pledge.id,
      unit: pledge.unit,
      loan: pledge.loan,
      haircut: pledge.haircut,
      limits: pledge.limits,
      quantities,
      price,
      fxRate,
      now,
      maxPriceAgeMs,
      previousStatus: published,
    };
    const stale = price !== null && now - this.prices.priceAtMs(pledge.commodity) > maxPriceAgeMs;
    const value = this.valueOf(pledge, input, stale);
    let status = published;
    let blindSince: number | null = null;
    if (measurable(value)) {
      status = value.status;
      if (RANK[status] > RANK[published] && quantities.unknown > 0) {
        // Would the goods out of sight, were they there, spare the pledge this status?
        const sighted = valuePledge({ ...input, quantities: { ...quantities, present: quantities.present + quantities.unknown, unknown: 0 } });
        if (RANK[sighted.status] < RANK[status]) {
          blindSince = this.blindSince.get(pledge.id) ?? now;
          if (now - blindSince < this.config.blindConfirmationMs) status = published;
        }
      }
    }
    return { value, status, published, blindSince, fxRate, maxPriceAgeMs };
  }

  /** Keeps what a committed look found. */
  take(pledgeId: string, fact: ValuationFact): void {
    this.published.set(pledgeId, fact.status);
    if (fact.blindSince === null) this.blindSince.delete(pledgeId);
    else this.blindSince.set(pledgeId, fact.blindSince);
    if (this.latest.get(pledgeId) !== fact.value) {
      this.latest.set(pledgeId, fact.value);
      this.unsampled.add(pledgeId);
    }
  }

  /**
   * One 'pledge_valuation' point per pledge whose value changed since the last sample, at `time`:
   * the series gets each change at checkpoint resolution, like the quantities.
   */
  samplePoints(time: number): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    for (const id of this.unsampled) {
      const v = this.latest.get(id);
      if (v === undefined) continue;
      const fields: Record<string, number> = {
        marketValue: v.marketValue,
        eligibleValue: v.eligibleValue,
        outstanding: v.outstanding,
        headroom: v.headroom,
        ...(v.ltv === null ? {} : { ltv: v.ltv }),
      };
      const key = JSON.stringify(fields);
      if (this.written.get(id) === key) continue;
      this.written.set(id, key);
      points.push({ measurement: 'pledge_valuation', tags: { pledgeId: id }, fields, time });
    }
    this.unsampled.clear();
    return points;
  }

  private valueOf(pledge: Pledge, input: ValuationInput, stale: boolean): Valuation {
    const inputs = [pledge, input.price, input.fxRate ?? null, input.previousStatus ?? 'ok', stale] as const;
    const m = this.memo.get(pledge.id);
    if (m !== undefined && m.inputs.every((x, i) => x === inputs[i]) && sameQuantities(m.quantities, input.quantities)) return m.value;
    const value = valuePledge(input);
    this.memo.set(pledge.id, { inputs, quantities: input.quantities, value });
    return value;
  }
}

/** The status change a look makes, if any: what commits with the alert changes of the same look. */
export function statusChange(pledge: Pledge, fact: ValuationFact, now: number): StatusChange | null {
  if (fact.status === fact.published) return null;
  const at = isoTime(now);
  return { tenant: pledge.tenant, pledgeId: pledge.id, status: fact.status, valuation: { ...fact.value, at }, at };
}

const QUANTITY_KEYS = ['pledged', 'present', 'missing', 'relocated', 'damaged', 'unknown'] as const satisfies readonly (keyof Quantities)[];

function sameQuantities(a: Quantities, b: Quantities): boolean {
  return QUANTITY_KEYS.every((k) => a[k] === b[k]);
}
