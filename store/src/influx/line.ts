/**
 * SeriesPoint → one line of InfluxDB line protocol, and the checks a point must pass first.
 * Serialised here rather than by the influx client's writePoints, whose generic per-point path
 * (schema coercion, sorting, an escape call per key) cost more than InfluxDB's own parsing of the
 * line — see `npm run bench -- influx`.
 *
 * The schema keeps cardinality bounded: a series is (measurement, tags), and tags are the point's
 * low-cardinality ids (pledgeId, gatewayId, sensorId, zone, kind, …). An EPC as a tag would make one
 * series per physical item, so such a point is refused.
 */
import type { SeriesPoint } from '../series.ts';
import type { Chunk } from './types.ts';

/** Why toLine refused its last point (one holder per call site: no object per point on the hot path). */
export interface Refusal {
  reason: string;
}

/** Characters that need a look: escaped in keys and tag values, refused when they break the line. */
const SPECIAL = /[,= \r\n]/;
const LINE_BREAK = /[\r\n]/;

/** `epc` / `epcs` in any case, without a regex per tag on the hot path. */
const isEpcKey = (key: string) => (key.length === 3 || key.length === 4) && /^epcs?$/i.test(key);

/** The escaped form, or null when the text holds a line break (line protocol cannot carry one). */
function escaped(s: string, chars: RegExp): string | null {
  if (!SPECIAL.test(s)) return s;
  if (LINE_BREAK.test(s)) return null;
  return s.replace(chars, '\\$1');
}

const TAG_CHARS = /([,= ])/g;
const MEASUREMENT_CHARS = /([, ])/g;

const refuse = (why: Refusal, reason: string): null => {
  why.reason = reason;
  return null;
};

/**
 * Escaped names by name (measurements, tag and field keys): a small set fixed by the code that writes
 * points, so each is looked at once per store rather than once per point. Bounded all the same.
 */
export class NameCache {
  private readonly names = new Map<string, string | null>();
  /** Tag keys as `,key=`, escaped; null when the key may not be a tag (see isEpcKey) or is broken. */
  private readonly tagKeys = new Map<string, string | null>();
  /**
   * Tag values, escaped: low-cardinality ids by design (the schema's point), so a lookup replaces the
   * scan for characters to escape. Bounded; past the bound values are escaped each time.
   */
  private readonly values = new Map<string, string | null>();

  get(name: string, chars: RegExp): string | null {
    let e = this.names.get(name);
    if (e === undefined) {
      e = escaped(name, chars);
      if (this.names.size < 1_000) this.names.set(name, e);
    }
    return e;
  }

  tagKey(key: string): string | null {
    let e = this.tagKeys.get(key);
    if (e === undefined) {
      const k = isEpcKey(key) ? null : escaped(key, TAG_CHARS);
      e = k === null ? null : ',' + k + '=';
      if (this.tagKeys.size < 1_000) this.tagKeys.set(key, e);
    }
    return e;
  }

  tagValue(value: string): string | null {
    let e = this.values.get(value);
    if (e === undefined) {
      e = escaped(value, TAG_CHARS);
      if (this.values.size < 100_000) this.values.set(value, e);
    }
    return e;
  }
}

/** The point's line, or null with the reason in `why`. */
export function toLine(p: SeriesPoint, why: Refusal, names: NameCache = new NameCache()): string | null {
  const m = typeof p.measurement === 'string' && p.measurement !== '' ? names.get(p.measurement, MEASUREMENT_CHARS) : null;
  if (m === null) return refuse(why, 'measurement must be a non-empty single line');
  if (!Number.isFinite(p.time)) return refuse(why, `time ${p.time} is not a number of ms`);
  let line = m;
  for (const key in p.tags) {
    const value = p.tags[key];
    // Line protocol has no empty tag values; InfluxDB treats a missing tag as the empty string anyway.
    if (value === undefined || value === '') continue;
    const k = names.tagKey(key);
    if (k === null) return refuse(why, isEpcKey(key) ? `tag "${key}" would make one series per item` : `tag "${key}" holds a line break`);
    const v = names.tagValue(value);
    if (v === null) return refuse(why, `tag "${key}" holds a line break`);
    line += k + v;
  }
  let sep = ' ';
  for (const key in p.fields) {
    const value = p.fields[key];
    // Neither SQLite nor InfluxDB can store NaN or ±Infinity: such values are left out, as the SQLite adapter does.
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const k = names.get(key, TAG_CHARS);
    if (k === null) return refuse(why, `field "${key}" holds a line break`);
    // No `i` suffix: every field is a float, so a value that happens to be whole never changes its type.
    line += sep + k + '=' + String(value);
    sep = ',';
  }
  if (sep === ' ') return refuse(why, 'no finite field value');
  return line + ' ' + msText(Math.round(p.time));
}

/**
 * A whole number of ms as text. Epoch milliseconds (13 digits) are beyond V8's small integers, and
 * converting such a number costs about three times converting its two small halves: that was a sixth
 * of a point's serialisation.
 */
export function msText(t: number): string {
  if (!(t >= 1e6 && t < 1e15)) return String(t);
  const hi = Math.floor(t / 1e6);
  return String(hi) + String(t - hi * 1e6 + 1e6).slice(1);
}

/** Serialises points into chunks of at most `maxPoints` lines; `invalid` hears about each point refused. */
export function toChunks(
  points: readonly SeriesPoint[],
  maxPoints: number,
  invalid: (p: SeriesPoint, reason: string) => void,
  names: NameCache = new NameCache(),
): Chunk[] {
  const chunks: Chunk[] = [];
  let lines: string[] = [];
  const why: Refusal = { reason: '' };
  for (const p of points) {
    const line = toLine(p, why, names);
    if (line === null) {
      invalid(p, why.reason);
      continue;
    }
    lines.push(line);
    if (lines.length === maxPoints) {
      chunks.push({ body: lines.join('\n'), points: lines.length });
      lines = [];
    }
  }
  // One flat string per chunk: joining flattens the lines once, here, instead of a rope per batch later.
  if (lines.length > 0) chunks.push({ body: lines.join('\n'), points: lines.length });
  return chunks;
}
