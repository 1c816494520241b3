/**
 * PRICE_STALE: the pledge's commodity price is older than its maximum age (per commodity, default
 * 24 h). Nothing is eligible at a stale price, so the LTV cannot be measured: the pledge keeps the
 * status it had (and its LTV alert) until a fresh price comes, which resolves this alert at once.
 */
import { roundTo } from '@pledgewatch/common';
import { iso } from './format.ts';
import { valuationEvidence } from './ltv.ts';
import type { Rule } from './types.ts';

export const priceStale: Rule = (f) => {
  const v = f.valuation;
  const price = v?.value.price ?? null;
  if (v === null || price === null || !price.stale) return [];
  const commodity = f.pledge.commodity;
  return [
    {
      type: 'PRICE_STALE',
      subject: 'price',
      severity: 'warning',
      summary: `${commodity} price of ${price.at} is older than its maximum age (${hours(v.maxPriceAgeMs)})`,
      confirmMs: 0,
      holdMs: 0,
      evidence: () => [
        {
          kind: 'price',
          at: iso(f.now),
          commodity,
          value: price.value,
          currency: price.currency,
          unit: price.unit,
          pricedAt: price.at,
          source: price.source,
          ageS: Math.floor((f.now - Date.parse(price.at)) / 1000),
          maxAgeS: roundTo(v.maxPriceAgeMs / 1000, 3),
        },
        valuationEvidence(f),
      ],
    },
  ];
};

const hours = (ms: number): string => `${roundTo(ms / 3_600_000, 2)} h`;
