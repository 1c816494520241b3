/**
 * Canonical JSON (RFC 8785, JCS, for the JSON PledgeWatch writes): object members sorted by their
 * UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify writes them.
 * Two programs that agree on a value agree on its bytes, so hashes and signatures over it can be
 * recomputed by anyone from the JSON alone, whatever its formatting or member order.
 */
import { createHash } from 'node:crypto';

/**
 * The canonical text of a JSON value. Members whose value is undefined are left out, as JSON.stringify
 * does; anything JSON cannot say exactly (NaN, Infinity, undefined in an array, a Date, a bigint, a class
 * instance) throws, naming where it is, rather than being written as something else.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '');
}

function write(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonical JSON: ${path || '/'} is ${v}, which JSON cannot represent`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((item, i) => write(item, `${path}/${i}`)).join(',')}]`;
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonical JSON: ${path || '/'} is a ${v.constructor.name}, not a plain object`);
      }
      const obj = v as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is what RFC 8785 prescribes.
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${path}/${k}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: ${path || '/'} is ${typeof v}, which JSON cannot represent`);
  }
}

/** SHA-256 of the text's UTF-8 bytes, as 64 lower-case hex digits. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
