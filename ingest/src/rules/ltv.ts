/**
 * LTV_WARNING, MARGIN_CALL, LIQUIDATION: one alert matching the status ingest publishes for the pledge
 * (see valuation/valuations.ts), so at most one of the three is open at a time. A step up resolves the
 * lower alert and opens the higher one in the same transaction as the pledge.status_changed event; a
 * step down likewise. Hysteresis lives in the status (it steps down only 1 LTV point below a limit), so
 * these alerts open at once and resolve at once.
 */
import { roundTo, type AlertSeverity, type AlertType, type Evidence, type LimitsT, type ValuationStatus } from '@pledgewatch/common';
import { iso, percent } from './format.ts';
import type { Condition, PledgeFacts, Rule } from './types.ts';

type Raised = Exclude<ValuationStatus, 'ok'>;

const BY_STATUS: Readonly<Record<Raised, { type: AlertType; severity: AlertSeverity; limit: keyof LimitsT; name: string }>> = {
  warning: { type: 'LTV_WARNING', severity: 'warning', limit: 'warnLtv', name: 'warning' },
  margin_call: { type: 'MARGIN_CALL', severity: 'critical', limit: 'marginCallLtv', name: 'margin-call' },
  liquidation: { type: 'LIQUIDATION', severity: 'critical', limit: 'liquidationLtv', name: 'liquidation' },
};

/** The rule for the alert of one status. */
export function ltvAlert(status: Raised): Rule {
  const spec = BY_STATUS[status];
  return (f) => {
    const v = f.valuation;
    if (v === null || v.status !== status) return [];
    const { value } = v;
    const limit = f.pledge.limits[spec.limit];
    // The current LTV lives in the evidence (refreshed every minute), not in the summary: an alert.updated
    // for every price tick would drown what matters, which is the step from one status to another.
    const summary =
      value.ltv === null
        ? `nothing eligible while ${value.outstanding} ${value.currency} is owed (${spec.name} limit ${percent(limit)})`
        : `LTV at or above the ${spec.name} limit of ${percent(limit)}`;
    const condition: Condition = {
      type: spec.type,
      subject: 'ltv',
      severity: spec.severity,
      summary,
      confirmMs: 0,
      holdMs: 0,
      evidence: () => [valuationEvidence(f)],
    };
    return [condition];
  };
}

/** The valuation an LTV or price alert rests on: LTV, limits, price, FX, quantities. */
export function valuationEvidence(f: PledgeFacts): Evidence {
  const v = f.valuation;
  if (v === null) throw new Error('valuation evidence without a valuation');
  const { value } = v;
  return {
    kind: 'valuation',
    at: iso(f.now),
    ltv: value.ltv,
    limits: f.pledge.limits,
    status: v.status,
    currency: value.currency,
    marketValue: value.marketValue,
    eligibleValue: value.eligibleValue,
    outstanding: value.outstanding,
    headroom: value.headroom,
    haircut: f.pledge.haircut,
    price: value.price,
    fxRate: value.price === null || value.price.currency === value.currency ? null : roundTo(v.fxRate ?? 0, 9),
    quantity: value.quantity,
    issues: value.issues,
  };
}
