/**
 * A pledge's published status (ok, warning, margin_call, liquidation) and the event that tells lenders
 * it changed (`pledge.status_changed`, CONTRACT §4). What a status change writes is decided here once,
 * so every state-store adapter records the same status and event (they only do the SQL).
 */
import type { Valuation, ValuationStatus } from './pledge.ts';

/** A status ingest publishes for a pledge, with the valuation it rests on. */
export interface StatusChange {
  tenant: string;
  pledgeId: string;
  status: ValuationStatus;
  valuation: Valuation;
  /** When it changed: the event's time. */
  at: string;
}

/** The `data` of a pledge.status_changed webhook. */
export interface PledgeStatusChanged {
  pledgeId: string;
  previousStatus: ValuationStatus;
  status: ValuationStatus;
  at: string;
  valuation: Valuation;
}

export type StatusWrite = { kind: 'none' } | { kind: 'save'; status: ValuationStatus; event: PledgeStatusChanged };

/**
 * `stored` is the pledge's published status; null (never published) reads as ok, so a new pledge that
 * starts ok writes nothing. The same status again (a replay, another process) writes nothing either.
 */
export function statusWrite(stored: ValuationStatus | null, change: StatusChange): StatusWrite {
  const previousStatus = stored ?? 'ok';
  if (previousStatus === change.status) return { kind: 'none' };
  return {
    kind: 'save',
    status: change.status,
    event: { pledgeId: change.pledgeId, previousStatus, status: change.status, at: change.at, valuation: change.valuation },
  };
}
