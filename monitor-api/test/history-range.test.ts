import { describe, expect, it } from 'vitest';
import { defaultStep, formatStep, parseHistoryRange, parseStep, parseTime } from '../src/domain/history-range.ts';

const H = 3_600_000;

describe('history range', () => {
  it.each([
    ['300', 300_000],
    ['5m', 300_000],
    ['PT5M', 300_000],
    ['PT300S', 300_000],
    ['1h', H],
    ['PT1H30M', 1.5 * H],
    ['P1D', 24 * H],
    ['2d', 48 * H],
    ['P1W', 168 * H],
    ['P1DT12H', 36 * H],
    ['PT1.5S', 1_500],
  ])('reads the step %s', (text, ms) => {
    expect(parseStep(text)).toBe(ms);
  });

  it.each([['PT0.5S'], ['5M'], ['pt5m'], ['P'], ['P1Y'], ['-5m'], ['5 m'], ['1e3'], ['P3651D']])('refuses the step %s with a reason', (text) => {
    expect(typeof parseStep(text)).toBe('string');
  });

  it('writes steps as canonical ISO 8601 durations', () => {
    expect([1_000, 1_500, 300_000, 1.5 * H, 24 * H, 36 * H, 7 * 24 * H].map(formatStep)).toEqual(['PT1S', 'PT1.5S', 'PT5M', 'PT1H30M', 'P1D', 'P1DT12H', 'P7D']);
    for (const text of ['PT5M', 'P1DT12H', 'PT1H30M']) expect(formatStep(parseStep(text) as number)).toBe(text);
  });

  it('picks a default step giving at most 300 points', () => {
    expect([60_000, H, 24 * H, 7 * 24 * H, 365 * 24 * H].map((span) => formatStep(defaultStep(span)))).toEqual(['PT1S', 'PT15S', 'PT5M', 'PT1H', 'P2D']);
  });

  it('reads RFC 3339 times strictly, offsets included', () => {
    expect(parseTime('2026-03-01T10:00:00+02:00')).toBe(Date.parse('2026-03-01T08:00:00Z'));
    expect(parseTime('2026-03-01T08:00:00.123456789Z')).toBe(Date.parse('2026-03-01T08:00:00.123Z'));
    for (const bad of ['2026-02-29T00:00:00Z', '2026-03-01T24:00:00Z', '2026-03-01 08:00:00Z', '2026-03-01T08:00:00', '2026-03-01T08:00:00+2']) {
      expect(parseTime(bad)).toBeNull();
    }
    // Years below 100 are years, not 1900 + year (Date.UTC's reading).
    expect(parseTime('0050-01-01T00:00:00Z')).toBe(Date.parse('0050-01-01T00:00:00Z'));
  });

  it('fills in to = now and from = to − 24 h', () => {
    const now = Date.parse('2026-03-02T08:00:00Z');
    expect(parseHistoryRange({}, now)).toEqual({ from: now - 24 * H, to: now, stepMs: 300_000 });
    expect(parseHistoryRange({ to: '2026-03-01T08:00:00Z', step: '1h' }, now)).toEqual({ from: now - 48 * H, to: now - 24 * H, stepMs: H });
  });
});
