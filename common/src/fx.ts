/** FX rates: how the loan currency relates to a price currency. */
import { Type, type Static } from 'typebox';
import { Time } from './ids.ts';

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' });

/** `rate` units of `quote` buy one unit of `base` (EUR/USD 1.08: base EUR, quote USD, rate 1.08). */
export const FxRateMessage = Type.Object(
  {
    base: Currency,
    quote: Currency,
    rate: Type.Number({ exclusiveMinimum: 0 }),
    at: Time,
    source: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type FxRate = Static<typeof FxRateMessage>;

/**
 * Loan-currency units per price-currency unit, from the stored rate of either direction (the newer
 * one wins when both exist); null when neither is known. 1 for the same currency.
 */
export function fxFactor(from: string, to: string, direct: FxRate | null, inverse: FxRate | null): number | null {
  if (from === to) return 1;
  const use = direct !== null && (inverse === null || Date.parse(direct.at) >= Date.parse(inverse.at)) ? direct : inverse;
  if (use === null) return null;
  return use === direct ? use.rate : 1 / use.rate;
}

/** How far ahead of this clock a rate's time may lie (feeds' clocks drift) before it is refused. */
export const FX_MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * What is wrong with a rate that passed FxRateMessage, from the API or the feed alike: a pair of one
 * currency, a time that is not one, a time in the future. Empty when it may be recorded.
 */
export function fxRateProblems(rate: FxRate, now: number): { path: string; reason: string }[] {
  const at = Date.parse(rate.at);
  return [
    ...(rate.base === rate.quote ? [{ path: '/quote', reason: 'same as base' }] : []),
    ...(Number.isNaN(at) ? [{ path: '/at', reason: 'not a valid time' }] : []),
    ...(at > now + FX_MAX_FUTURE_SKEW_MS ? [{ path: '/at', reason: 'lies in the future' }] : []),
  ];
}
