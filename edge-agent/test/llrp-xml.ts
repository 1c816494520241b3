/**
 * A small regex-based reader for the LTK's XML renderings of LLRP messages (no XML dependency):
 * enough to pull the messages, parameter blocks and leaf values the golden tests compare.
 * Handles both styles in testdata: `<llrp:NAME Version="1" MessageID="3">` and `<NAME MessageID='3'>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The shared captures (../shared/testdata/llrp); PW_LLRP_TESTDATA points elsewhere. */
export const TESTDATA = process.env.PW_LLRP_TESTDATA ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'llrp');

export interface XmlMessage {
  name: string;
  id: number;
  /** the message's inner XML, comments removed */
  xml: string;
}

const P = '(?:llrp:)?';

export function readXml(path: string): string {
  return readFileSync(path, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
}

/** Every message element (an UPPER_CASE element with a MessageID attribute), in document order. */
export function xmlMessages(xml: string): XmlMessage[] {
  const re = new RegExp(`<${P}([A-Z][A-Z0-9_]*)\\b[^>]*\\bMessageID=['"](\\d+)['"][^>]*>([\\s\\S]*?)</${P}\\1>`, 'g');
  return [...xml.matchAll(re)].map((m) => ({ name: m[1] as string, id: Number(m[2]), xml: m[3] as string }));
}

/** Inner XML of every `<name>` block (for parameters that do not nest inside themselves). */
export function blocks(xml: string, name: string): string[] {
  const re = new RegExp(`<${P}${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${P}${name}>`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1] as string);
}

export function block(xml: string, name: string): string | undefined {
  return blocks(xml, name)[0];
}

/** Text of the first leaf element `<name>text</name>`; undefined when absent. */
export function leaf(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${P}${name}(?:\\s[^>]*)?>([^<]*)</${P}${name}>`).exec(xml);
  return m?.[1]?.trim();
}

/** An attribute of the first `<name …>` element. */
export function attr(xml: string, name: string, attribute: string): string | undefined {
  const m = new RegExp(`<${P}${name}\\s[^>]*\\b${attribute}=['"]([^'"]*)['"]`).exec(xml);
  return m?.[1];
}

/** Leaf inside a parameter whose first child is that leaf, as `<AntennaID><AntennaID>1</AntennaID></AntennaID>`. */
export function nested(xml: string, outer: string, inner: string): string | undefined {
  const m = new RegExp(`<${P}${outer}(?:\\s[^>]*)?>\\s*<${P}${inner}(?:\\s[^>]*)?>([^<]*)<`).exec(xml);
  return m?.[1]?.trim();
}

export function num(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

export function bool(text: string | undefined): boolean | undefined {
  return text === undefined ? undefined : text === 'true' || text === '1';
}

/** `2008-09-22T09:51:17.000000-04:00` → microseconds since the epoch (Date.parse keeps only ms). */
export function micros(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) throw new Error(`not a timestamp: ${text}`);
  const fraction = (m[2] ?? '').padEnd(6, '0');
  return Date.parse(`${m[1]}${m[3]}`) * 1000 + Number(fraction);
}

/** Elements directly named in `names`, in document order, with their inner XML. */
export function children(xml: string, names: readonly string[]): { name: string; xml: string }[] {
  const re = new RegExp(`<${P}(${names.join('|')})(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${P}\\1>)`, 'g');
  return [...xml.matchAll(re)].map((m) => ({ name: m[1] as string, xml: m[2] ?? '' }));
}
