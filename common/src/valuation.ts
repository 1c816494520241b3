/** Mark-to-market valuation: pure, no I/O, the same numbers for the API, alerts and certificates. */
import { isoTime } from './clock.ts';
import { roundMoney, roundTo } from './money.ts';
import type { LimitsT, PriceRecord, Quantities, Valuation, ValuationStatus } from './pledge.ts';
import { unitFactor } from './units.ts';

export const DEFAULT_MAX_PRICE_AGE_MS = 24 * 3600 * 1000;

/** How old a price may be before it is stale: a default, and overrides per commodity. */
export interface PriceAgeLimits {
  defaultMs?: number | undefined;
  /** commodity → maximum age in ms */
  byCommodityMs?: Readonly<Record<string, number>> | undefined;
}

/** The maximum price age of one commodity (its own, else the default, else 24 h). */
export function maxPriceAgeFor(commodity: string, limits: PriceAgeLimits = {}): number {
  const own = limits.byCommodityMs !== undefined && Object.hasOwn(limits.byCommodityMs, commodity) ? limits.byCommodityMs[commodity] : undefined;
  return own ?? limits.defaultMs ?? DEFAULT_MAX_PRICE_AGE_MS;
}
/** The time after which a price is stale (older than its maximum age): the one rule, for valuations and whoever memoises them. */
export function priceStaleAfter(price: Pick<PriceRecord, 'at'>, maxPriceAgeMs = DEFAULT_MAX_PRICE_AGE_MS): number {
  return Date.parse(price.at) + maxPriceAgeMs;
}
/** LTV must fall this far below a limit before the status steps down (no flapping at the limit). */
export const DEFAULT_LTV_HYSTERESIS = 0.01;

export interface ValuationInput {
  pledgeId: string;
  unit: string;
  loan: { outstanding: number; currency: string };
  haircut: number;
  limits: LimitsT;
  quantities: Quantities;
  price: PriceRecord | null;
  /** Loan-currency units per one unit of the price currency; needed only when they differ. */
  fxRate?: number | null;
  now: number;
  maxPriceAgeMs?: number;
  previousStatus?: ValuationStatus;
  hysteresis?: number;
}

const RANK: Record<ValuationStatus, number> = { ok: 0, warning: 1, margin_call: 2, liquidation: 3 };

/** Status for an LTV; stepping down from `previous` needs the LTV `hysteresis` below that limit. */
export function ltvStatus(
  ltv: number | null,
  limits: LimitsT,
  previous: ValuationStatus = 'ok',
  hysteresis = DEFAULT_LTV_HYSTERESIS,
): ValuationStatus {
  if (ltv === null) return 'liquidation';
  const raw: ValuationStatus =
    ltv >= limits.liquidationLtv ? 'liquidation'
    : ltv >= limits.marginCallLtv ? 'margin_call'
    : ltv >= limits.warnLtv ? 'warning'
    : 'ok';
  if (RANK[raw] >= RANK[previous]) return raw;
  // Going down: hold the previous status while the LTV is within the hysteresis band of its limit.
  const limitOf: Record<Exclude<ValuationStatus, 'ok'>, number> = {
    warning: limits.warnLtv,
    margin_call: limits.marginCallLtv,
    liquidation: limits.liquidationLtv,
  };
  return previous !== 'ok' && ltv > limitOf[previous] - hysteresis ? previous : raw;
}

/**
 * Values a pledge. Only goods present, in place, undamaged and known count as eligible, and only at a
 * usable price (not older than its maximum age, convertible to the pledge's unit and loan currency).
 * With nothing eligible and money owed, `ltv` is null (unbounded) and the status is liquidation.
 */
export function valuePledge(input: ValuationInput): Valuation {
  const { loan, quantities: q, price } = input;
  const currency = loan.currency;
  const issues: string[] = [];
  let unitPrice = 0; // in loan currency per pledge unit
  let usable = false;
  let stale = false;
  if (price === null) {
    issues.push('no price for this commodity');
  } else {
    stale = input.now > priceStaleAfter(price, input.maxPriceAgeMs);
    const perPledgeUnit = unitFactor(input.unit, price.unit);
    const fx = price.currency === currency ? 1 : (input.fxRate ?? null);
    if (perPledgeUnit === null) issues.push(`price unit ${price.unit} does not convert to pledge unit ${input.unit}`);
    if (fx === null) issues.push(`no FX rate ${price.currency}→${currency}`);
    if (perPledgeUnit !== null && fx !== null) {
      unitPrice = price.price * perPledgeUnit * fx;
      usable = true;
    }
    if (stale) issues.push(`price is older than its maximum age (${price.at})`);
  }
  const marketValue = usable ? roundMoney(q.present * unitPrice, currency) : 0;
  const eligibleQuantity = Math.max(0, q.present - q.damaged);
  const eligibleValue =
    usable && !stale ? roundMoney(eligibleQuantity * unitPrice * (1 - input.haircut), currency) : 0;
  const outstanding = roundMoney(loan.outstanding, currency);
  const ltv = eligibleValue > 0 ? roundTo(outstanding / eligibleValue, 6) : outstanding > 0 ? null : 0;
  return {
    pledgeId: input.pledgeId,
    at: isoTime(input.now),
    quantity: q,
    price:
      price === null
        ? null
        : { value: price.price, currency: price.currency, unit: price.unit, at: price.at, source: price.source, stale },
    marketValue,
    eligibleValue,
    outstanding,
    currency,
    ltv,
    headroom: roundMoney(eligibleValue * input.limits.marginCallLtv - outstanding, currency),
    status: ltvStatus(ltv, input.limits, input.previousStatus, input.hysteresis),
    issues,
  };
}
