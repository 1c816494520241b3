/**
 * DAMAGE, per pledged zone: a temperature or humidity reading outside the pledge's storage spec for
 * longer than the hold time; water or a shock at or over the threshold at once; a camera damage event
 * at or over the confidence threshold. All signals of one zone make one alert, their evidence together.
 * Water, shock and camera damage latch: the goods may be damaged whatever the sensor says next, so a
 * person resolves the alert. A spec excursion resolves on its own once back in spec for the hold time.
 */
import type { AlertSeverity, Evidence } from '@pledgewatch/common';
import type { Condition, EnvironmentFact, PledgeFacts, Rule } from './types.ts';

interface Signal {
  severity: AlertSeverity;
  latch: boolean;
  event?: string;
  evidence: Evidence;
}

export const damage: Rule = (f) => {
  const out: Condition[] = [];
  for (const zone of f.pledge.zones) {
    const signals = zoneSignals(f, zone);
    if (signals.length === 0) continue;
    // Out-of-spec readings not yet held long enough still belong in the picture of a flood or a fire.
    const context = f.environment.filter((e) => e.reading.zone === zone && e.outSince !== null).map(readingEvidence);
    out.push({
      type: 'DAMAGE',
      subject: `zone:${zone}`,
      severity: signals.some((s) => s.severity === 'critical') ? 'critical' : 'warning',
      // Names the zone only: signals come and go (a camera frame counts for a minute) while the alert
      // stays, and a summary that changed with each would be an alert.updated each time. The evidence
      // and the occurrence count tell what was seen.
      summary: `Damage risk in zone ${zone}`,
      confirmMs: 0, // the rule itself waits out the hold of spec excursions; the other signals count at once
      holdMs: f.config.lifecycle.holdMs,
      latch: signals.some((s) => s.latch),
      events: signals.flatMap((s) => (s.event === undefined ? [] : [s.event])),
      evidence: () => dedupe([...signals.map((s) => s.evidence), ...context]),
    });
  }
  return out;
};

function zoneSignals(f: PledgeFacts, zone: string): Signal[] {
  const { now, config } = f;
  const window = config.damage.eventWindowMs;
  const signals: Signal[] = [];
  for (const e of f.environment) {
    if (e.reading.zone !== zone) continue;
    const ongoing = e.outSince !== null && now - Date.parse(e.outSince) >= config.damage.specHoldMs;
    // An excursion that began and ended within readings that arrived late (an outbox replay).
    const past =
      e.lastExcursion !== null &&
      now - e.lastExcursion.receivedAt <= window &&
      Date.parse(e.lastExcursion.until) - Date.parse(e.lastExcursion.since) >= config.damage.specHoldMs;
    if (ongoing || past) {
      signals.push({ severity: 'warning', latch: false, evidence: readingEvidence(e) });
    }
  }
  for (const a of f.alarms) {
    const r = a.reading;
    if (r.zone !== zone || !(a.ongoing || now - r.receivedAt <= window)) continue;
    signals.push({
      severity: 'critical',
      latch: true,
      event: `${r.sensorId}@${a.since}`,
      evidence: { kind: 'reading', at: r.at, sensorId: r.sensorId, sensorKind: r.kind, zone: r.zone, value: r.value, unit: r.unit, since: a.since },
    });
  }
  for (const c of f.cameras) {
    const d = c.damage;
    if (c.zone !== zone || d === null || now - d.receivedAt > window) continue;
    signals.push({
      severity: 'critical',
      latch: true,
      event: `${c.cameraId}@${d.at}`,
      evidence: {
        kind: 'camera',
        at: d.at,
        cameraId: c.cameraId,
        zone: c.zone,
        event: 'damage',
        confidence: d.confidence,
        ...(d.snapshotUri === undefined ? {} : { snapshotUri: d.snapshotUri }),
      },
    });
  }
  return signals;
}

function readingEvidence(e: EnvironmentFact): Evidence {
  const r = e.reading;
  const limit = { ...(e.limit.min === undefined ? {} : { min: e.limit.min }), ...(e.limit.max === undefined ? {} : { max: e.limit.max }) };
  const since = e.outSince ?? e.lastExcursion?.since;
  return { kind: 'reading', at: r.at, sensorId: r.sensorId, sensorKind: r.kind, zone: r.zone, value: r.value, unit: r.unit, limit, ...(since === undefined ? {} : { since }) };
}

/** One item per sensor or camera: the signal's own item wins over the context reading. */
function dedupe(items: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return items.filter((e) => {
    const key = e.kind === 'reading' ? e.sensorId : e.kind === 'camera' ? e.cameraId : e.kind;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
