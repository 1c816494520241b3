import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { msText, NameCache, toLine } from '../src/influx/line.ts';
import type { SeriesPoint } from '../src/series.ts';

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

  it('writes the same line from its cache of series keys as from scratch, whatever the order of points and tags', () => {
    const text = fc.constantFrom('a', 'b c', 'd,e', 'f=g', 'sensor-1', 'Z1', '', 'line\nbreak');
    const point = fc.record({
      measurement: fc.constantFrom('reading', 'pledge quantity', 'm,1'),
      tags: fc.dictionary(fc.constantFrom('gatewayId', 'zone', 'kind', 'a b', 'epc', 'x=y'), text, { maxKeys: 4 }),
      fields: fc.dictionary(fc.constantFrom('value', 'f 1'), fc.oneof(fc.double(), fc.integer()), { minKeys: 1, maxKeys: 2 }),
      time: fc.integer({ min: 0, max: 2e12 }),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 40 }), (points: SeriesPoint[]) => {
        const cache = new NameCache();
        const [cached, fresh] = [{ reason: '' }, { reason: '' }];
        for (const p of points) {
          expect(toLine(p, cached, cache)).toBe(toLine(p, fresh));
          expect(cached.reason).toBe(fresh.reason);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps writing right lines past the bound of its series-key cache', () => {
    const cache = new NameCache();
    const why = { reason: '' };
    const point = (i: number): SeriesPoint => ({ measurement: 'reading', tags: { gatewayId: `gw-${i}`, sensorId: `s-${i}`, zone: `Z ${i}` }, fields: { value: i }, time: i });
    // 40,000 series of three tags each: past the bound of 100,000 cached steps.
    for (let i = 0; i < 40_000; i++) toLine(point(i), why, cache);
    for (const i of [0, 39_999, 40_000, 50_000]) expect(toLine(point(i), why, cache)).toBe(`reading,gatewayId=gw-${i},sensorId=s-${i},zone=Z\\ ${i} value=${i} ${i}`);
  });
});
