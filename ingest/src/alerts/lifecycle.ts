/**
 * The life of one alert, as a pure step function: given what is tracked for a condition and whether
 * the condition holds now, the next tracked state and the store change to make (if any).
 *
 * - A condition must hold for its confirmation delay before an alert opens (pending until then; a
 *   condition that clears while pending leaves nothing behind).
 * - While open, the same condition updates the alert: occurrences (a return after clearing, a new
 *   discrete event), severity (only ever escalated), summary, lastSeenAt, evidence.
 * - It resolves only after the condition has stayed clear for the hold time. Each return before that
 *   doubles the hold (up to a cap): a condition toggling every few seconds keeps one alert open
 *   instead of opening dozens. Latched alerts (physical damage) wait for a person.
 * - alert.updated is told at most once per notify interval, except for escalations; lastSeenAt and
 *   evidence are written silently at most once per touch interval.
 */
import {
  isoTime,
  maxSeverity,
  mergeEvidence,
  type AlertChange,
  type AlertRecord,
  type AlertType,
} from '@pledgewatch/common';
import type { Condition } from '../rules/types.ts';

export interface LifecycleConfig {
  holdMs: number;
  maxHoldMs: number;
  notifyIntervalMs: number;
  touchIntervalMs: number;
}

/** The condition an alert is about. */
export interface ConditionKey {
  tenant: string;
  pledgeId: string;
  type: AlertType;
  subject: string;
}

export interface Tracked extends ConditionKey {
  /** When the condition was first seen holding, while no alert is open yet. */
  pendingSince: number | null;
  alert: AlertRecord | null;
  /** When an open alert's condition was first seen clear (null while it holds). */
  clearSince: number | null;
  /** Times the condition came back while its alert was waiting out the hold: the flapping count. */
  returns: number;
  holdMs: number;
  /** Discrete events already counted (bounded). */
  seenEvents: readonly string[];
  lastWriteAt: number;
  lastNotifyAt: number;
  /** A change worth an alert.updated is waiting for the notify interval. */
  owed: boolean;
}

export interface Step {
  next: Tracked | null;
  change: AlertChange | null;
}

const MAX_SEEN_EVENTS = 64;

export const conditionKey = (k: { pledgeId: string; type: string; subject: string }): string => `${k.pledgeId}\u0000${k.type}\u0000${k.subject}`;

/** Tracking for an alert found open in the store (at start, or opened by another process). */
export function trackOpenAlert(alert: AlertRecord, holdMs: number, now: number): Tracked {
  return {
    tenant: alert.tenant,
    pledgeId: alert.pledgeId,
    type: alert.type,
    subject: alert.subject,
    pendingSince: null,
    alert,
    clearSince: null,
    returns: 0,
    holdMs,
    seenEvents: [],
    lastWriteAt: now,
    lastNotifyAt: Date.parse(alert.updatedAt),
    owed: false,
  };
}

export function step(
  key: ConditionKey,
  tracked: Tracked | undefined,
  condition: Condition | null,
  now: number,
  cfg: LifecycleConfig,
  newId: () => string,
): Step {
  if (condition !== null) return holds(key, tracked, condition, now, cfg, newId);
  if (tracked === undefined || tracked.alert === null) return { next: null, change: null };
  return clear(tracked, tracked.alert, now, cfg);
}

function holds(key: ConditionKey, t: Tracked | undefined, c: Condition, now: number, cfg: LifecycleConfig, newId: () => string): Step {
  const alert = t?.alert ?? null;
  if (alert === null) {
    const pendingSince = t?.pendingSince ?? now;
    if (now - pendingSince < c.confirmMs) {
      return { next: { ...fresh(key, c, now), pendingSince }, change: null };
    }
    const at = isoTime(now);
    const opened: AlertRecord = {
      id: newId(),
      tenant: key.tenant,
      pledgeId: key.pledgeId,
      type: key.type,
      subject: key.subject,
      severity: c.severity,
      status: 'open',
      openedAt: at,
      updatedAt: at,
      summary: c.summary,
      evidence: c.evidence(),
      occurrences: 1,
      lastSeenAt: at,
      latched: c.latch === true,
    };
    return { next: { ...fresh(key, c, now), alert: opened }, change: { kind: 'open', alert: opened } };
  }
  const tracked = t as Tracked;
  const newEvents = (c.events ?? []).filter((e) => !tracked.seenEvents.includes(e));
  const returned = tracked.clearSince !== null;
  const severity = maxSeverity(alert.severity, c.severity);
  const occurrences = alert.occurrences + (returned ? 1 : 0) + newEvents.length;
  const latched = alert.latched || c.latch === true;
  const material = severity !== alert.severity || occurrences !== alert.occurrences || c.summary !== alert.summary || latched !== alert.latched;
  const current: AlertRecord = { ...alert, severity, occurrences, latched, summary: c.summary, lastSeenAt: isoTime(now) };
  const next: Tracked = {
    ...tracked,
    alert: current,
    clearSince: null,
    returns: tracked.returns + (returned ? 1 : 0),
    holdMs: c.holdMs,
    seenEvents: [...tracked.seenEvents, ...newEvents].slice(-MAX_SEEN_EVENTS),
    owed: tracked.owed || material,
  };
  return write(next, current, now, severity !== alert.severity, c, cfg);
}

function clear(t: Tracked, alert: AlertRecord, now: number, cfg: LifecycleConfig): Step {
  if (alert.latched) return write(t, alert, now, false, null, cfg);
  const clearSince = t.clearSince ?? now;
  const hold = Math.min(t.holdMs * 2 ** Math.min(t.returns, 16), Math.max(cfg.maxHoldMs, t.holdMs));
  if (now - clearSince < hold) return write({ ...t, clearSince }, alert, now, false, null, cfg);
  const at = isoTime(now);
  const resolved: AlertRecord = { ...alert, status: 'resolved', resolvedAt: at, resolvedBy: 'rule', updatedAt: at };
  return { next: null, change: { kind: 'resolve', alert: resolved } };
}

/**
 * Decides whether the current state of an open alert goes to the store now: at once for an
 * escalation, when a change is owed and the notify interval has passed, or silently when the last
 * write is older than the touch interval. The evidence is (re)built only when something is written.
 */
function write(t: Tracked, alert: AlertRecord, now: number, escalated: boolean, c: Condition | null, cfg: LifecycleConfig): Step {
  const notify = escalated || (t.owed && now - t.lastNotifyAt >= cfg.notifyIntervalMs);
  // A touch refreshes what was seen; with the condition clear there is nothing new to write.
  const touch = c !== null && !notify && now - t.lastWriteAt >= cfg.touchIntervalMs;
  if (!notify && !touch) return { next: t, change: null };
  const written: AlertRecord = {
    ...alert,
    evidence: c === null ? alert.evidence : mergeEvidence(alert.evidence, c.evidence()),
    ...(notify ? { updatedAt: isoTime(now) } : {}),
  };
  const next: Tracked = {
    ...t,
    alert: written,
    lastWriteAt: now,
    ...(notify ? { lastNotifyAt: now, owed: false } : {}),
  };
  return { next, change: { kind: 'update', alert: written, notify } };
}

function fresh(key: ConditionKey, c: Condition, now: number): Tracked {
  return {
    ...key,
    pendingSince: null,
    alert: null,
    clearSince: null,
    returns: 0,
    holdMs: c.holdMs,
    seenEvents: (c.events ?? []).slice(-MAX_SEEN_EVENTS),
    lastWriteAt: now,
    lastNotifyAt: now,
    owed: false,
  };
}
