/**
 * Alerts (CONTRACT §3) and the events that record their lifecycle for webhook delivery (CONTRACT §4).
 * One alert stands for one condition of one pledge: (pledgeId, type, subject) names it, and at most one
 * alert per name is not resolved at any time.
 */
import type { PledgeStatusChanged } from './pledge-status.ts';
import type { LimitsT, Quantities, Valuation, ValuationStatus } from './pledge.ts';

export const ALERT_TYPES = [
  'QUANTITY_LOSS',
  'RELOCATION',
  'DAMAGE',
  'MONITORING_GAP',
  'LTV_WARNING',
  'MARGIN_CALL',
  'LIQUIDATION',
  'PRICE_STALE',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** The types ingest's rules raise (the LTV and price types belong to valuation). */
export const RULE_ALERT_TYPES = ['QUANTITY_LOSS', 'RELOCATION', 'DAMAGE', 'MONITORING_GAP'] as const satisfies readonly AlertType[];
export type RuleAlertType = (typeof RULE_ALERT_TYPES)[number];

/** The types ingest's valuation raises: one LTV alert matching the pledge's status, and a stale price. */
export const VALUATION_ALERT_TYPES = ['LTV_WARNING', 'MARGIN_CALL', 'LIQUIDATION', 'PRICE_STALE'] as const satisfies readonly AlertType[];
export type ValuationAlertType = (typeof VALUATION_ALERT_TYPES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

export function severityRank(s: AlertSeverity): number {
  return SEVERITY_RANK[s];
}

export function maxSeverity(a: AlertSeverity, b: AlertSeverity): AlertSeverity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/** One step up (critical stays critical): what corroborating evidence does to a severity. */
export function raiseSeverity(s: AlertSeverity): AlertSeverity {
  return s === 'info' ? 'warning' : 'critical';
}

/**
 * What an alert rests on. Every item names its kind and the time it describes; the rest are the facts
 * and numbers a person needs to check the alert without our database.
 */
export type Evidence =
  | {
      kind: 'quantities';
      at: string;
      unit: string;
      pledged: number;
      released: number;
      present: number;
      missing: number;
      relocated: number;
      unknown: number;
      /** present + unknown + relocated must stay at or above this */
      threshold: number;
      tolerance: number;
      shareMissing: number;
    }
  | {
      kind: 'missing-tags';
      at: string;
      total: number;
      /** the first ones, by EPC; `total` says how many there are */
      tags: { epc: string; quantity: number; zone: string; readerId: string; lastSeenAt: string }[];
    }
  | {
      kind: 'relocated-tags';
      at: string;
      total: number;
      tags: { epc: string; quantity: number; siteId: string; zone: string; gatewayId: string; readerId: string; seenAt: string }[];
    }
  | { kind: 'scale'; at: string; sensorId: string; expectedKg: number; measuredKg: number; thresholdKg: number }
  | {
      kind: 'reading';
      at: string;
      sensorId: string;
      sensorKind: string;
      zone: string;
      value: number;
      unit: string;
      limit?: { min?: number; max?: number };
      /** when the reading left the storage spec (for spec excursions) */
      since?: string;
    }
  | {
      kind: 'camera';
      at: string;
      cameraId: string;
      zone: string;
      event: string;
      confidence: number;
      snapshotUri?: string;
    }
  | {
      kind: 'position';
      at: string;
      trackerId: string;
      lat: number;
      lon: number;
      /** how far outside the geofence, in metres */
      outsideByM: number;
    }
  | {
      kind: 'gateway';
      at: string;
      gatewayId: string;
      online: boolean | null;
      reason: 'offline' | 'silent';
      lastStatusAt: string | null;
      heartbeatIntervalS: number;
    }
  | {
      kind: 'reader';
      at: string;
      gatewayId: string;
      readerId: string;
      reason: 'disconnected' | 'silent';
      since: string;
      lastReadAt: string | null;
      /** pledged quantity last seen by this reader, now not observable */
      quantity: number;
    }
  | {
      kind: 'valuation';
      at: string;
      /** outstanding / eligibleValue; null when nothing is eligible and money is owed */
      ltv: number | null;
      limits: LimitsT;
      status: ValuationStatus;
      currency: string;
      marketValue: number;
      eligibleValue: number;
      outstanding: number;
      headroom: number;
      haircut: number;
      price: Valuation['price'];
      /** loan-currency units per price-currency unit, when they differ */
      fxRate: number | null;
      quantity: Quantities;
      issues: string[];
    }
  | {
      kind: 'price';
      at: string;
      commodity: string;
      value: number;
      currency: string;
      unit: string;
      /** the price's own time */
      pricedAt: string;
      source: string;
      ageS: number;
      maxAgeS: number;
    };

export type EvidenceKind = Evidence['kind'];

/** Identifies what an evidence item is about, so a newer item about the same thing replaces it. */
export function evidenceKey(e: Evidence): string {
  switch (e.kind) {
    case 'scale':
    case 'reading':
      return `${e.kind}:${e.sensorId}`;
    case 'camera':
      return `camera:${e.cameraId}:${e.event}`;
    case 'position':
      return `position:${e.trackerId}`;
    case 'gateway':
      return `gateway:${e.gatewayId}`;
    case 'reader':
      return `reader:${e.gatewayId}/${e.readerId}`;
    default:
      return e.kind;
  }
}

/** The alert as the API and webhooks show it (CONTRACT §3, plus subject, occurrences and lastSeenAt). */
export interface Alert {
  id: string;
  pledgeId: string;
  type: AlertType;
  /** What the condition is about within the pledge: 'quantity', 'zone:A1', 'gateway:gw-1', … */
  subject: string;
  severity: AlertSeverity;
  status: AlertStatus;
  openedAt: string;
  updatedAt: string;
  resolvedAt?: string;
  /** Who resolved it: the rule (condition clear for the hold time) or a person through the API. */
  resolvedBy?: 'rule' | 'api';
  acknowledgedAt?: string;
  summary: string;
  evidence: Evidence[];
  /** How many times the condition was seen: 1 at opening, +1 per return after clearing or per new event. */
  occurrences: number;
  lastSeenAt: string;
}

/** An alert as stored: with its tenant, and whether it waits for a person to resolve it. */
export interface AlertRecord extends Alert {
  tenant: string;
  /** Physical damage signals (water, shock, camera) never resolve on their own. */
  latched: boolean;
}

/** The public view of a stored alert: explicit, so internal fields never leak. */
export function alertView(a: AlertRecord): Alert {
  return {
    id: a.id,
    pledgeId: a.pledgeId,
    type: a.type,
    subject: a.subject,
    severity: a.severity,
    status: a.status,
    openedAt: a.openedAt,
    updatedAt: a.updatedAt,
    ...(a.resolvedAt === undefined ? {} : { resolvedAt: a.resolvedAt }),
    ...(a.resolvedBy === undefined ? {} : { resolvedBy: a.resolvedBy }),
    ...(a.acknowledgedAt === undefined ? {} : { acknowledgedAt: a.acknowledgedAt }),
    summary: a.summary,
    evidence: a.evidence,
    occurrences: a.occurrences,
    lastSeenAt: a.lastSeenAt,
  };
}

/**
 * A change to the alerts of the store, computed by a rule engine. Changes address an alert by its
 * condition (pledgeId, type, subject), not by id: whoever opened the one unresolved alert of a
 * condition, the change lands on it.
 * - open: insert `alert`; if the condition already has an unresolved alert, merge into that one instead
 *   (occurrences + 1, severity never lowered) and record alert.updated rather than alert.opened.
 * - update: write severity, summary, evidence, occurrences and lastSeenAt of the unresolved alert;
 *   record alert.updated only when `notify` (a silent update just keeps lastSeenAt and evidence fresh).
 * - resolve: resolve the unresolved alert and record alert.resolved.
 * An update or resolve finding no unresolved alert (a person resolved it meanwhile) changes nothing.
 */
export type AlertChange =
  | { kind: 'open'; alert: AlertRecord }
  | { kind: 'update'; alert: AlertRecord; notify: boolean }
  | { kind: 'resolve'; alert: AlertRecord };

export const ALERT_EVENT_TYPES = ['alert.opened', 'alert.updated', 'alert.resolved'] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** Every type of event the outbox records (CONTRACT §4). */
export const OUTBOX_EVENT_TYPES = [...ALERT_EVENT_TYPES, 'pledge.status_changed'] as const;
export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

/**
 * One entry of the event outbox: what webhooks deliver. `id` is stable for the life of the event (the
 * `webhook-id` of every delivery attempt); `seq` orders events as they were committed.
 */
export interface EventRecord {
  id: string;
  seq: number;
  tenant: string;
  type: OutboxEventType;
  pledgeId: string;
  /** The alert an alert.* event is about; null for pledge.status_changed. */
  alertId: string | null;
  /** The webhook body's `data`: the alert as it stood after the change, or the pledge's status change. */
  data: Alert | PledgeStatusChanged;
  createdAt: string;
}

/**
 * The evidence of an alert after a new observation: items about the same thing (see evidenceKey) are
 * replaced by the newer one in place, others kept. What the alert once rested on stays on record.
 */
export function mergeEvidence(before: readonly Evidence[], now: readonly Evidence[]): Evidence[] {
  const byKey = new Map<string, Evidence>(before.map((e) => [evidenceKey(e), e]));
  for (const e of now) byKey.set(evidenceKey(e), e);
  return [...byKey.values()];
}
