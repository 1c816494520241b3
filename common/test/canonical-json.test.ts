import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../src/index.ts';

describe('canonical JSON (RFC 8785)', () => {
  it('writes the RFC’s own example byte for byte', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts members by UTF-16 code units, at every depth', () => {
    const keys = ['\u20ac', '\r', '\ufb33', '1', '\ud83d\ude00', '\u0080', '\u00f6'];
    const text = canonicalJson(Object.fromEntries(keys.map((k, i) => [k, { b: i, a: [{ z: 1, y: 2 }] }])));
    const order = [...text.matchAll(/"([^"]+)":\{"a"/g)].map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
    expect(order).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    expect(text).toContain('{"a":[{"y":2,"z":1}],"b":');
  });

  it('leaves out undefined members and refuses what JSON cannot say exactly, naming where', () => {
    expect(canonicalJson({ a: undefined, b: -0 })).toBe('{"b":0}');
    expect(() => canonicalJson({ price: { value: Number.NaN } })).toThrow('/price/value is NaN');
    expect(() => canonicalJson({ list: [1, undefined] })).toThrow('/list/1 is undefined');
    expect(() => canonicalJson({ at: new Date(0) })).toThrow('/at is a Date');
    expect(() => canonicalJson(10n)).toThrow('/ is bigint');
  });

  it('is the same for a value and its JSON round trip, whatever the member order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalJson(value);
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonical);
        expect(canonicalJson(JSON.parse(canonical))).toBe(canonical);
      }),
    );
  });

  it('hashes UTF-8 with SHA-256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('€')).toBe(sha256Hex('\u20ac'));
  });
});
