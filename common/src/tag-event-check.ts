/**
 * Tag events are nearly all of ingest's traffic, and the schemas' compiled checks spend most of their
 * time on them in regular expressions (an EPC, two identifiers and a time or two, per event). This
 * accepts the ordinary tag event in plain code, several times faster. It only ever accepts: whatever
 * it does not accept goes through the schema, which decides and names what is wrong. A property test
 * holds it to the schemas in wire.ts: whatever this accepts, the schema accepts.
 */
import type { EventType } from './wire.ts';

const MAX_ANTENNA = 65535;

/** ^[0-9A-Fa-f]{8,124}$ (ids.ts EPC_PATTERN). */
function isEpc(v: unknown): boolean {
  if (typeof v !== 'string' || v.length < 8 || v.length > 124) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** ^[A-Za-z0-9._-]{1,64}$ (ids.ts ID_PATTERN). */
function isId(v: unknown): boolean {
  if (typeof v !== 'string' || v.length < 1 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 45)) return false;
  }
  return true;
}

const digit = (v: string, i: number) => {
  const c = v.charCodeAt(i);
  return c >= 48 && c <= 57;
};

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form every gateway of ours sends: one of the forms RFC3339_PATTERN
 * allows. Any other form goes to the schema.
 */
function isCanonicalTime(v: unknown): boolean {
  if (typeof v !== 'string' || v.length !== 24) return false;
  return (
    digit(v, 0) && digit(v, 1) && digit(v, 2) && digit(v, 3) && v.charCodeAt(4) === 45 &&
    digit(v, 5) && digit(v, 6) && v.charCodeAt(7) === 45 && digit(v, 8) && digit(v, 9) && v.charCodeAt(10) === 84 &&
    digit(v, 11) && digit(v, 12) && v.charCodeAt(13) === 58 && digit(v, 14) && digit(v, 15) && v.charCodeAt(16) === 58 &&
    digit(v, 17) && digit(v, 18) && v.charCodeAt(19) === 46 && digit(v, 20) && digit(v, 21) && digit(v, 22) && v.charCodeAt(23) === 90
  );
}

type Fields = Record<string, unknown>;

const seen = (e: Fields) => isCanonicalTime(e.at) && isEpc(e.epc) && isId(e.zone) && isId(e.readerId);

const ACCEPT: Partial<Record<EventType, (e: Fields) => boolean>> = {
  'tag.arrived': (e) =>
    seen(e) &&
    (e.antenna === undefined || (Number.isInteger(e.antenna) && (e.antenna as number) >= 0 && (e.antenna as number) <= MAX_ANTENNA)) &&
    (e.rssi === undefined || Number.isFinite(e.rssi)) &&
    e.epcUri === undefined,
  'tag.moved': (e) => seen(e) && isId(e.fromZone),
  'tag.departed': (e) => seen(e) && isCanonicalTime(e.lastSeenAt),
};

/** Whether `value` is, for certain, a valid event of type `type` (false: ask the schema). */
export function acceptsTagEvent(type: string, value: unknown): boolean {
  const accept = ACCEPT[type as EventType];
  return accept !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value) && accept(value as Fields);
}
