import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { msText, toLine } from '../src/influx/line.ts';

describe('line protocol', () => {
  it('writes a time in ms exactly as String() would, for every whole number', () => {
    for (const t of [0, 7, 999_999, 1_000_000, 1_000_007, 1_772_323_200_000, 1_772_323_200_007, 999_999_999_999_999, 1e15, -5]) expect(msText(t)).toBe(String(t));
    fc.assert(fc.property(fc.integer({ min: -1e16, max: 1e16 }), (t) => msText(t) === String(t)), { numRuns: 2000 });
  });

  it('serialises a point: measurement, escaped tags, float fields, ms time', () => {
    const why = { reason: '' };
    const line = toLine({ measurement: 'reading', tags: { sensorId: 'scale a1', zone: 'A,1', empty: '' }, fields: { value: 12.5, bad: Number.NaN }, time: 1_772_323_200_042 }, why);
    expect(line).toBe('reading,sensorId=scale\\ a1,zone=A\\,1 value=12.5 1772323200042');
    expect(toLine({ measurement: 'reading', tags: { epc: '3034' }, fields: { value: 1 }, time: 1 }, why)).toBeNull();
    expect(why.reason).toContain('one series per item');
  });
});
