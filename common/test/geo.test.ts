import { describe, expect, it } from 'vitest';
import { distanceM, outsideByM } from '../src/index.ts';

describe('geofences', () => {
  const yard = { lat: 31.2304, lon: 121.4737 };

  it('measures great-circle distance', () => {
    // One degree of latitude is about 111.2 km.
    expect(distanceM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(111_195, -2);
    expect(distanceM(yard, yard)).toBe(0);
  });

  it('tells how far outside a circle a point is', () => {
    const fence = { ...yard, radiusM: 200 };
    expect(outsideByM(fence, { lat: yard.lat + 0.001, lon: yard.lon })).toBe(0); // ~111 m north
    expect(outsideByM(fence, { lat: yard.lat + 0.003, lon: yard.lon })).toBeCloseTo(133.6, 0); // ~333.6 m north
  });

  it('tells how far outside a polygon a point is, 0 inside', () => {
    // A square of ~222 m around the yard.
    const d = 0.001;
    const fence = {
      points: [
        { lat: yard.lat - d, lon: yard.lon - d },
        { lat: yard.lat - d, lon: yard.lon + d },
        { lat: yard.lat + d, lon: yard.lon + d },
        { lat: yard.lat + d, lon: yard.lon - d },
      ],
    };
    expect(outsideByM(fence, yard)).toBe(0);
    expect(outsideByM(fence, { lat: yard.lat + 0.002, lon: yard.lon })).toBeCloseTo(111.2, 0);
    expect(outsideByM(fence, { lat: yard.lat, lon: yard.lon - 0.002 })).toBeCloseTo(95.2, 0); // a degree of longitude is shorter here
  });
});
