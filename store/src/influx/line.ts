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
 * One step of a series key: the line up to here, and the steps after it by tag key, then tag value.
 * Points of one call site carry the same tag keys in the same order, so each step usually has one
 * next key: it is kept aside (`key`, `byValue`) to be matched by a comparison instead of a lookup.
 */
interface SeriesNode {
  prefix: string;
  key: string | null;
  byValue: Map<string, SeriesNode> | null;
  others: Map<string, Map<string, SeriesNode>> | null;
}

/**
 * What a store has serialised before: escaped field keys (a small set fixed by the code that writes
 * points) and series keys. A series key — the measurement and the escaped tags, the
 * start of every line of that series — is found by walking a tree by tag key and value, so a point of
 * a known series costs lookups instead of escaping and concatenating each tag, and its line starts
 * with one flat string. Series are few by design (the schema's point); both caches are bounded all the
 * same, and past the bound keys are built each time.
 */
export class NameCache {
  private readonly fieldKeys = new Map<string, string | null>();
  private readonly measurements = new Map<string, SeriesNode>();
  private nodes = 0;

  /** The escaped field key, or null when it holds a line break. */
  fieldKey(key: string): string | null {
    let e = this.fieldKeys.get(key);
    if (e === undefined) {
      e = escaped(key, TAG_CHARS);
      if (this.fieldKeys.size < 1_000) this.fieldKeys.set(key, e);
    }
    return e;
  }

  /** The line's start, `measurement,k1=v1,k2=v2`, or null with the reason in `why`. */
  seriesKey(measurement: string, tags: Readonly<Record<string, string>>, why: Refusal): string | null {
    let node: SeriesNode | undefined = this.measurements.get(measurement);
    /** Whether `node` is in the tree (only then are steps after it kept). */
    let kept = true;
    if (node === undefined) {
      const m = measurement === '' ? null : escaped(measurement, MEASUREMENT_CHARS);
      if (m === null) return refuse(why, 'measurement must be a non-empty single line');
      node = { prefix: m, key: null, byValue: null, others: null };
      kept = this.measurements.size < 1_000;
      if (kept) this.measurements.set(measurement, node);
    }
    for (const key in tags) {
      const value = tags[key];
      // Line protocol has no empty tag values; InfluxDB treats a missing tag as the empty string anyway.
      if (value === undefined || value === '') continue;
      let child: SeriesNode | undefined = (key === node.key ? node.byValue : node.others?.get(key))?.get(value);
      if (child === undefined) {
        if (isEpcKey(key)) return refuse(why, `tag "${key}" would make one series per item`);
        const k = escaped(key, TAG_CHARS);
        const v = escaped(value, TAG_CHARS);
        if (k === null || v === null) return refuse(why, `tag "${key}" holds a line break`);
        child = { prefix: flat(node.prefix + ',' + k + '=' + v), key: null, byValue: null, others: null };
        kept &&= this.nodes < MAX_SERIES_NODES;
        if (kept) {
          this.nodes++;
          childrenOf(node, key).set(value, child);
        }
      }
      node = child;
    }
    return node.prefix;
  }
}

const MAX_SERIES_NODES = 100_000;

function childrenOf(node: SeriesNode, key: string): Map<string, SeriesNode> {
  if (node.key === null) node.key = key;
  if (key === node.key) return (node.byValue ??= new Map<string, SeriesNode>());
  node.others ??= new Map();
  let byValue = node.others.get(key);
  if (byValue === undefined) node.others.set(key, (byValue = new Map<string, SeriesNode>()));
  return byValue;
}

/** The string as one piece (V8 keeps a concatenation as a tree until something reads it whole). */
function flat(s: string): string {
  // Converting to a number reads the string whole, flattening it in place (the `flatstr` trick).
  void Number(s);
  return s;
}

/** The point's line, or null with the reason in `why`. */
export function toLine(p: SeriesPoint, why: Refusal, names: NameCache = new NameCache()): string | null {
  if (typeof p.measurement !== 'string') return refuse(why, 'measurement must be a non-empty single line');
  if (!Number.isFinite(p.time)) return refuse(why, `time ${p.time} is not a number of ms`);
  let line = names.seriesKey(p.measurement, p.tags, why);
  if (line === null) return null;
  let sep = ' ';
  for (const key in p.fields) {
    const value = p.fields[key];
    // Neither SQLite nor InfluxDB can store NaN or ±Infinity: such values are left out, as the SQLite adapter does.
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const k = names.fieldKey(key);
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
  // Points of a batch are close in time: the upper half (about 17 minutes long) is usually the last one's.
  if (hi !== lastHi) {
    lastHi = hi;
    lastHiText = String(hi);
  }
  return lastHiText + String(t - hi * 1e6 + 1e6).slice(1);
}

let lastHi = -1;
let lastHiText = '';

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
