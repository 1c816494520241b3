/**
 * QUANTITY_LOSS: what is in place falls short of what is pledged (less releases) by more than the
 * tolerance. Unknown goods (reader or gateway down) are not missing — that is a monitoring gap — and
 * relocated goods raise RELOCATION, so the shortfall is what departed while its reader was healthy.
 * Scales corroborate: a scale short of its expected weight goes into the evidence and raises the
 * severity. A bulk pledge (no items) is judged by its scales alone.
 */
import { raiseSeverity, type AlertSeverity, type Evidence } from '@pledgewatch/common';
import type { SeverityBand } from './config.ts';
import { firstBy, iso, percent, qty } from './format.ts';
import type { Condition, PledgeFacts, Rule } from './types.ts';

/** Absorbs float noise in quantity sums (they are kept to 1e-6 of a unit). */
const EPSILON = 1e-7;

interface ScaleCheck {
  sensorId: string;
  expectedKg: number;
  thresholdKg: number;
  measuredKg: number;
  at: string;
}

export const quantityLoss: Rule = (f) => {
  const { pledge, quantities: q } = f;
  const tolerance = pledge.quantityTolerance;
  const scales = checkScales(f);
  const short = scales.filter((s) => s.measuredKg < s.thresholdKg);
  let share: number;
  let summary: string;
  if (pledge.items.length > 0) {
    const threshold = q.pledged * (1 - tolerance);
    if (q.pledged <= 0 || !(q.present + q.unknown + q.relocated < threshold - EPSILON)) return [];
    share = q.missing / q.pledged;
    summary = `${qty(q.missing)} ${pledge.unit} of ${qty(q.pledged)} ${pledge.unit} missing (${percent(share)})`;
    if (short.length > 0) summary += ', corroborated by scale';
  } else {
    // Bulk goods: only a complete set of scale readings can show a loss; a silent scale shows nothing.
    if (scales.length === 0 || scales.length < pledge.scales.length) return [];
    const expected = sum(scales.map((s) => s.expectedKg));
    const measured = sum(scales.map((s) => s.measuredKg));
    if (expected <= 0 || !(measured < expected * (1 - tolerance))) return [];
    share = 1 - measured / expected;
    // Rounded to whole percent: a scale's every small wobble must not read as a new development.
    summary = `scales show about ${percent(share, 0)} less than expected`;
  }
  let severity = band(f.config.quantityLoss.bands, share);
  if (pledge.items.length > 0 && short.length > 0) severity = raiseSeverity(severity);
  const condition: Condition = {
    type: 'QUANTITY_LOSS',
    subject: 'quantity',
    severity,
    summary,
    confirmMs: pledge.rules?.confirmationDelayS === undefined ? f.config.quantityLoss.confirmationDelayMs : pledge.rules.confirmationDelayS * 1000,
    holdMs: f.config.lifecycle.holdMs,
    evidence: () => evidence(f, share, scales),
  };
  return [condition];
};

function evidence(f: PledgeFacts, share: number, scales: ScaleCheck[]): Evidence[] {
  const { pledge, quantities: q, now } = f;
  const at = iso(now);
  const out: Evidence[] = [
    {
      kind: 'quantities',
      at,
      unit: pledge.unit,
      pledged: q.pledged,
      released: f.released.quantity + releasedByName(f),
      present: q.present,
      missing: q.missing,
      relocated: q.relocated,
      unknown: q.unknown,
      threshold: Math.round(q.pledged * (1 - pledge.quantityTolerance) * 1e6) / 1e6,
      tolerance: pledge.quantityTolerance,
      shareMissing: Math.round(share * 1e6) / 1e6,
    },
  ];
  if (pledge.items.length > 0) {
    const missing = f.items().filter((i) => i.state === 'missing');
    out.push({
      kind: 'missing-tags',
      at,
      total: missing.length,
      tags: firstBy(missing, (i) => i.epc, f.config.evidenceLimit).map((i) => ({
        epc: i.epc,
        quantity: i.quantity,
        zone: i.tag?.zone ?? '',
        readerId: i.tag?.readerId ?? '',
        lastSeenAt: i.tag?.lastSeenAt ?? '',
      })),
    });
  }
  for (const s of scales) {
    out.push({ kind: 'scale', at: s.at, sensorId: s.sensorId, expectedKg: s.expectedKg, measuredKg: s.measuredKg, thresholdKg: s.thresholdKg });
  }
  return out;
}

/**
 * Scales with a reading, against their expected weight scaled down by what was released: a release
 * of a fifth of the pledge leaves four fifths of the weight to expect.
 */
function checkScales(f: PledgeFacts): ScaleCheck[] {
  const { pledge } = f;
  const original = pledge.items.length > 0 ? sum(pledge.items.map((i) => i.quantity)) : (pledge.quantity ?? 0);
  const factor = original > 0 ? Math.max(0, f.quantities.pledged / original) : 1;
  const checks: ScaleCheck[] = [];
  for (const s of f.scales) {
    if (s.reading === null) continue;
    const expectedKg = Math.round(s.expectedKg * factor * 1000) / 1000;
    checks.push({
      sensorId: s.sensorId,
      expectedKg,
      thresholdKg: Math.round(expectedKg * (1 - pledge.quantityTolerance) * 1000) / 1000,
      measuredKg: s.reading.value,
      at: s.reading.at,
    });
  }
  return checks;
}

function releasedByName(f: PledgeFacts): number {
  if (f.released.epcs.size === 0) return 0;
  return sum(f.pledge.items.filter((i) => f.released.epcs.has(i.epc)).map((i) => i.quantity));
}

/** The last band whose minShare is reached (bands are sorted by minShare). */
export function band(bands: readonly SeverityBand[], share: number): AlertSeverity {
  let severity: AlertSeverity = bands[0]?.severity ?? 'warning';
  for (const b of bands) if (share >= b.minShare) severity = b.severity;
  return severity;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
