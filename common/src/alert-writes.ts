/**
 * What an alert change or a person's action does to the stored alert: decided here once, so that every
 * state-store adapter writes the same records and outbox events (they only do the SQL).
 */
import { PwError } from './errors.ts';
import { maxSeverity, mergeEvidence, type AlertChange, type AlertEventType, type AlertRecord } from './alerts.ts';

export type AlertWrite =
  | { kind: 'insert'; alert: AlertRecord; event: AlertEventType; at: string }
  | { kind: 'save'; alert: AlertRecord; event: AlertEventType | null; at: string }
  | { kind: 'none' };

/** `current` is the condition's unresolved alert, if there is one. */
export function alertWrite(current: AlertRecord | null, change: AlertChange): AlertWrite {
  const next = change.alert;
  if (change.kind === 'open' && current === null) return { kind: 'insert', alert: next, event: 'alert.opened', at: next.updatedAt };
  // A person resolved it meanwhile: the rule's next look opens a new alert if the condition holds.
  if (current === null) return { kind: 'none' };
  if (change.kind === 'resolve') {
    const resolved: AlertRecord = {
      ...current,
      status: 'resolved',
      resolvedAt: next.resolvedAt ?? next.updatedAt,
      resolvedBy: 'rule',
      updatedAt: next.updatedAt,
      summary: next.summary,
      evidence: mergeEvidence(current.evidence, next.evidence),
      lastSeenAt: later(current.lastSeenAt, next.lastSeenAt),
    };
    return { kind: 'save', alert: resolved, event: 'alert.resolved', at: next.updatedAt };
  }
  // An open for a condition that has an alert already (another process, a replay) is an update
  // of that alert: one more occurrence, never a lower severity.
  const merging = change.kind === 'open';
  const notify = merging || change.notify;
  const merged: AlertRecord = {
    ...current,
    severity: maxSeverity(current.severity, next.severity),
    summary: next.summary,
    evidence: merging ? mergeEvidence(current.evidence, next.evidence) : next.evidence,
    occurrences: merging ? current.occurrences + 1 : Math.max(current.occurrences, next.occurrences),
    lastSeenAt: later(current.lastSeenAt, next.lastSeenAt),
    latched: current.latched || next.latched,
    // A silent update refreshes the evidence but is not a change worth telling about (see `since`).
    updatedAt: notify ? next.updatedAt : current.updatedAt,
  };
  return { kind: 'save', alert: merged, event: notify ? 'alert.updated' : null, at: next.updatedAt };
}

/** A person acknowledges or resolves an alert; acknowledging a resolved one is refused. */
export function personAction(a: AlertRecord, action: 'ack' | 'resolve', at: string): AlertWrite {
  if (action === 'ack') {
    if (a.status === 'resolved') throw new PwError('ALERT_RESOLVED', `Alert ${a.id} is already resolved`);
    if (a.status === 'acknowledged') return { kind: 'none' };
    return { kind: 'save', alert: { ...a, status: 'acknowledged', acknowledgedAt: at, updatedAt: at }, event: 'alert.updated', at };
  }
  if (a.status === 'resolved') return { kind: 'none' };
  return { kind: 'save', alert: { ...a, status: 'resolved', resolvedAt: at, resolvedBy: 'api', updatedAt: at }, event: 'alert.resolved', at };
}

/** The later of two times (as ms, not text: offsets and precision may differ). */
function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}
