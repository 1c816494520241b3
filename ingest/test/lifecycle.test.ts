import { describe, expect, it } from 'vitest';
import type { AlertChange, AlertSeverity } from '@pledgewatch/common';
import { step, type ConditionKey, type LifecycleConfig, type Tracked } from '../src/alerts/lifecycle.ts';
import type { Condition } from '../src/rules/types.ts';

const cfg: LifecycleConfig = { holdMs: 60_000, maxHoldMs: 600_000, notifyIntervalMs: 30_000, touchIntervalMs: 10_000 };
const key: ConditionKey = { tenant: 'bank-a', pledgeId: 'p1', type: 'QUANTITY_LOSS', subject: 'quantity' };
const T0 = Date.parse('2026-03-01T08:00:00.000Z');

function condition(over: Partial<Condition> = {}): Condition {
  return {
    type: 'QUANTITY_LOSS',
    subject: 'quantity',
    severity: 'warning',
    summary: '3 t of 100 t missing',
    evidence: () => [{ kind: 'scale', at: 'x', sensorId: 's1', expectedKg: 1, measuredKg: 1, thresholdKg: 1 }],
    confirmMs: 120_000,
    holdMs: 60_000,
    ...over,
  };
}

/** Drives one condition through time, collecting the store changes. */
class Driver {
  tracked: Tracked | undefined;
  changes: AlertChange[] = [];
  private n = 0;

  at(ms: number, c: Condition | null): AlertChange | null {
    const s = step(key, this.tracked, c, T0 + ms, cfg, () => `a${++this.n}`);
    this.tracked = s.next ?? undefined;
    if (s.change !== null) this.changes.push(s.change);
    return s.change;
  }

  kinds(): string[] {
    return this.changes.map((c) => (c.kind === 'update' ? (c.notify ? 'updated' : 'touched') : c.kind));
  }
}

describe('alert lifecycle', () => {
  it('opens only after the condition held for its confirmation delay', () => {
    const d = new Driver();
    expect(d.at(0, condition())).toBeNull();
    expect(d.at(60_000, condition())).toBeNull();
    const opened = d.at(120_000, condition());
    expect(opened).toMatchObject({ kind: 'open', alert: { id: 'a1', status: 'open', occurrences: 1, severity: 'warning', openedAt: '2026-03-01T08:02:00.000Z' } });
    expect(opened?.alert.evidence).toHaveLength(1);
  });

  it('forgets a condition that clears while pending: it must hold again from scratch', () => {
    const d = new Driver();
    d.at(0, condition());
    d.at(100_000, null);
    expect(d.tracked).toBeUndefined();
    d.at(110_000, condition());
    expect(d.at(200_000, condition())).toBeNull();
    expect(d.at(230_000, condition())?.kind).toBe('open');
  });

  it('updates the open alert instead of opening another: escalation at once, other changes at most once per interval', () => {
    const d = new Driver();
    d.at(0, condition({ confirmMs: 0 }));
    expect(d.at(1_000, condition({ confirmMs: 0, severity: 'critical' }))).toMatchObject({ kind: 'update', notify: true, alert: { severity: 'critical' } });
    // Lower severity later: the alert keeps the worst seen.
    d.at(2_000, condition({ confirmMs: 0, severity: 'warning', summary: 'changed' }));
    expect(d.tracked?.alert?.severity).toBe('critical');
    d.at(31_000, condition({ confirmMs: 0, summary: 'changed' }));
    expect(d.kinds()).toEqual(['open', 'updated', 'updated']);
    expect(d.changes.every((c) => c.alert.id === 'a1')).toBe(true);
  });

  it('refreshes lastSeenAt and evidence silently, at the touch interval', () => {
    const d = new Driver();
    d.at(0, condition({ confirmMs: 0 }));
    for (let t = 1_000; t <= 30_000; t += 1_000) d.at(t, condition({ confirmMs: 0 }));
    expect(d.kinds()).toEqual(['open', 'touched', 'touched', 'touched']);
    expect(d.changes.at(-1)?.alert).toMatchObject({ lastSeenAt: '2026-03-01T08:00:30.000Z', updatedAt: '2026-03-01T08:00:00.000Z' });
  });

  it('resolves only after the condition stayed clear for the hold time', () => {
    const d = new Driver();
    d.at(0, condition({ confirmMs: 0 }));
    expect(d.at(10_000, null)).toBeNull();
    expect(d.at(69_000, null)).toBeNull();
    expect(d.at(70_000, null)).toMatchObject({ kind: 'resolve', alert: { status: 'resolved', resolvedBy: 'rule', resolvedAt: '2026-03-01T08:01:10.000Z' } });
    expect(d.tracked).toBeUndefined();
  });

  it('keeps one alert for a condition toggling every few seconds, counting its returns', () => {
    const d = new Driver();
    for (let t = 0; t < 3_600_000; t += 3_000) d.at(t, (t / 3_000) % 2 === 0 ? condition({ confirmMs: 0 }) : null);
    expect(d.changes.filter((c) => c.kind === 'open')).toHaveLength(1);
    expect(d.changes.filter((c) => c.kind === 'resolve')).toHaveLength(0);
    expect(d.tracked?.alert?.occurrences).toBe(600);
    // Told about at most once per notify interval.
    expect(d.kinds().filter((k) => k === 'updated').length).toBeLessThanOrEqual(3_600_000 / cfg.notifyIntervalMs);
  });

  it('holds a flapping condition longer each time it returns', () => {
    const d = new Driver();
    d.at(0, condition({ confirmMs: 0 }));
    d.at(1_000, null);
    d.at(50_000, condition({ confirmMs: 0 })); // back within the 60 s hold
    d.at(51_000, null);
    expect(d.at(51_000 + 60_000, null)).toBeNull(); // the hold is now 120 s
    expect(d.at(51_000 + 120_000, null)?.kind).toBe('resolve');
    expect(d.changes.at(-1)?.alert.occurrences).toBe(2);
  });

  it('never resolves a latched alert on its own, and counts each new event once', () => {
    const d = new Driver();
    const latched = (events: string[], severity: AlertSeverity = 'critical') => condition({ confirmMs: 0, latch: true, events, severity });
    d.at(0, latched(['w1@t0']));
    d.at(1_000, latched(['w1@t0']));
    expect(d.tracked?.alert?.occurrences).toBe(1);
    d.at(2_000, latched(['w1@t0', 'cam@t2']));
    expect(d.tracked?.alert?.occurrences).toBe(2);
    for (let t = 3_000; t < 24 * 3_600_000; t += 600_000) d.at(t, null);
    expect(d.changes.filter((c) => c.kind === 'resolve')).toHaveLength(0);
    expect(d.tracked?.alert?.latched).toBe(true);
  });
});
