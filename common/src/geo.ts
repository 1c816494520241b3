/** Geofences for trackers on pledged goods: a circle or a polygon on the WGS 84 sphere. Pure. */
import { Type, type Static } from 'typebox';

const Lat = Type.Number({ minimum: -90, maximum: 90 });
const Lon = Type.Number({ minimum: -180, maximum: 180 });

export const CircleFence = Type.Object(
  { lat: Lat, lon: Lon, radiusM: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }) },
  { additionalProperties: false, description: 'circle: centre and radius in metres' },
);
export const PolygonFence = Type.Object(
  { points: Type.Array(Type.Object({ lat: Lat, lon: Lon }, { additionalProperties: false }), { minItems: 3, maxItems: 1000 }) },
  { additionalProperties: false, description: 'polygon: corners in order (closed implicitly)' },
);
export const Geofence = Type.Union([CircleFence, PolygonFence]);
export type GeofenceT = Static<typeof Geofence>;

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * How far outside the fence a point is, in metres; 0 inside. Polygons are small (a yard, a
 * warehouse), so a local flat projection around the point is accurate to well under a metre.
 */
export function outsideByM(fence: GeofenceT, p: { lat: number; lon: number }): number {
  if ('radiusM' in fence) return Math.max(0, distanceM(fence, p) - fence.radiusM);
  const mPerLat = (Math.PI * EARTH_RADIUS_M) / 180;
  const mPerLon = mPerLat * Math.cos(rad(p.lat));
  const pts = fence.points.map((q) => ({ x: (q.lon - p.lon) * mPerLon, y: (q.lat - p.lat) * mPerLat }));
  // The point is the origin: count edge crossings of the ray y = 0, x > 0; keep the nearest edge.
  let inside = false;
  let nearest = Infinity;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const a = pts[i] as { x: number; y: number };
    const b = pts[j] as { x: number; y: number };
    if (a.y > 0 !== b.y > 0 && a.x + ((0 - a.y) * (b.x - a.x)) / (b.y - a.y) > 0) inside = !inside;
    nearest = Math.min(nearest, segmentDistance(a, b));
  }
  return inside ? 0 : nearest;
}

/** Distance from the origin to segment ab. */
function segmentDistance(a: { x: number; y: number }, b: { x: number; y: number }): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / len2));
  return Math.hypot(a.x + t * dx, a.y + t * dy);
}
