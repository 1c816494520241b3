import fc from 'fast-check';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { acceptsTagEvent } from '../src/tag-event-check.ts';
import { EVENT_SCHEMAS, type EventType } from '../src/wire.ts';

const schemas = Object.fromEntries(Object.entries(EVENT_SCHEMAS).map(([type, schema]) => [type, Compile(schema)])) as unknown as Record<EventType, { Check(v: unknown): boolean }>;

const HEX = '0123456789abcdefABCDEF';
const ID_CHARS = 'abcXYZ019._-';
/** Characters next to the allowed ones, and others: a near miss is one of these in a valid value. */
const ODD = fc.constantFrom('g', 'G', 'z', 'Z', 't', '/', ':', '+', ' ', '@', '`', '[', '{', '٣', 'é', '\n', '\u0000');
const from = (chars: string, min: number, max: number) => fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((a) => a.join(''));
/** One character of `s` replaced by a digit, an allowed character or an odd one. */
const replaceOne = (s: fc.Arbitrary<string>, chars: string) =>
  fc.tuple(s, fc.nat(), fc.oneof(fc.constantFrom(...chars), ODD)).map(([v, i, c]) => (v.length === 0 ? c : v.slice(0, i % v.length) + c + v.slice((i % v.length) + 1)));
const canonicalTime = fc.date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
const epc = from(HEX, 8, 124);
const id = from(ID_CHARS, 1, 64);

/** A valid value of each field, and values around it that may or may not be valid. */
const FIELDS: Record<string, { valid: fc.Arbitrary<unknown>; around: fc.Arbitrary<unknown> }> = {
  at: { valid: canonicalTime, around: fc.oneof(replaceOne(canonicalTime, '0123456789-:.TZ'), fc.constantFrom('2026-11-28T20:00:00Z', '2026-11-28T20:00:00.1+01:00', '2026-11-28 20:00:00.000Z', ''), fc.anything()) },
  lastSeenAt: { valid: canonicalTime, around: fc.oneof(replaceOne(canonicalTime, '0123456789-:.TZ'), fc.anything()) },
  epc: { valid: epc, around: fc.oneof(from(HEX, 6, 10), from(HEX, 122, 126), replaceOne(epc, HEX), fc.anything()) },
  zone: { valid: id, around: fc.oneof(from(ID_CHARS, 0, 2), from(ID_CHARS, 63, 66), replaceOne(id, ID_CHARS), fc.anything()) },
  readerId: { valid: id, around: fc.oneof(from(ID_CHARS, 0, 2), replaceOne(id, ID_CHARS), fc.anything()) },
  fromZone: { valid: id, around: fc.oneof(from(ID_CHARS, 63, 66), replaceOne(id, ID_CHARS), fc.anything()) },
  antenna: { valid: fc.integer({ min: 0, max: 65_535 }), around: fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: 65_534, max: 65_537 }), fc.double(), fc.anything()) },
  rssi: { valid: fc.double({ noNaN: true, noDefaultInfinity: true }), around: fc.oneof(fc.double(), fc.anything()) },
  epcUri: { valid: fc.constant('urn:epc:tag:sgtin-96:3.0614141.812345.6789'), around: fc.string() },
  type: { valid: fc.constant(null), around: fc.constantFrom('tag.arrived', 'tag.moved', 'tag.departed', 'reading', 'TAG.ARRIVED', 1) },
};
const FIELDS_OF: Record<string, string[]> = {
  'tag.arrived': ['at', 'epc', 'zone', 'readerId', 'antenna', 'rssi', 'epcUri'],
  'tag.moved': ['at', 'epc', 'fromZone', 'zone', 'readerId'],
  'tag.departed': ['at', 'epc', 'zone', 'readerId', 'lastSeenAt'],
};

/** A valid tag event, its optional fields there or not, with at most a couple of fields moved near or past their limits. */
const eventArb = fc.constantFrom(...Object.keys(FIELDS_OF)).chain((type) => {
  const names = FIELDS_OF[type] as string[];
  const optional = new Set(['antenna', 'rssi', 'epcUri']);
  return fc
    .tuple(
      fc.record(Object.fromEntries(names.map((n) => [n, (FIELDS[n] as { valid: fc.Arbitrary<unknown> }).valid]))),
      fc.subarray(names.filter((n) => optional.has(n))),
      fc.array(fc.constantFrom(...names, 'type').chain((n) => (FIELDS[n] as { around: fc.Arbitrary<unknown> }).around.map((v) => [n, v] as const)), { maxLength: 2 }),
    )
    .map(([valid, kept, changes]) => {
      const e: Record<string, unknown> = { type };
      for (const n of names) if (!optional.has(n) || kept.includes(n)) e[n] = valid[n];
      for (const [n, v] of changes) e[n] = v;
      return e as Record<string, unknown> & { type: string };
    });
});

describe('the tag event fast path', () => {
  it('accepts nothing the schema refuses', () => {
    let accepted = 0;
    fc.assert(
      fc.property(eventArb, (e) => {
        const type = typeof e.type === 'string' ? e.type : '';
        if (!acceptsTagEvent(type, e)) return;
        accepted++;
        expect(schemas[type as EventType].Check(e)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    // Most generated events are valid, so that the boundaries are tried with everything else right.
    expect(accepted).toBeGreaterThan(5_000);
  });

  it('accepts the tag events gateways send, so that it is the path they take', () => {
    const at = '2026-11-28T20:00:00.000Z';
    const common = { at, epc: '3034257BF7194E4000001A85', zone: 'A1', readerId: 'r1' };
    expect(acceptsTagEvent('tag.arrived', { type: 'tag.arrived', ...common, antenna: 2, rssi: -61.5 })).toBe(true);
    expect(acceptsTagEvent('tag.arrived', { type: 'tag.arrived', ...common })).toBe(true);
    expect(acceptsTagEvent('tag.moved', { type: 'tag.moved', ...common, fromZone: 'B2' })).toBe(true);
    expect(acceptsTagEvent('tag.departed', { type: 'tag.departed', ...common, lastSeenAt: at })).toBe(true);
    // Left to the schema: another form of time, an EPC URI, another event type.
    expect(acceptsTagEvent('tag.arrived', { type: 'tag.arrived', ...common, at: '2026-11-28T20:00:00Z' })).toBe(false);
    expect(acceptsTagEvent('tag.arrived', { type: 'tag.arrived', ...common, epcUri: 'urn:epc:tag:x' })).toBe(false);
    expect(acceptsTagEvent('reading', { type: 'reading', at })).toBe(false);
  });
});
