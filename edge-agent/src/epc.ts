/**
 * EPC decoding (GS1 EPC Tag Data Standard) with epc-tds: the three 96-bit schemes a warehouse
 * pledge is made of — SGTIN-96 (trade items), SSCC-96 (logistic units: pallets) and GRAI-96
 * (returnable assets: stillages, IBCs) — become their URIs; anything else stays hex only.
 */
import epcTdsModule from 'epc-tds';

export type EpcScheme = 'sgtin-96' | 'sscc-96' | 'grai-96';

export interface DecodedEpc {
  /** upper-case hex, as read */
  hex: string;
  scheme: EpcScheme;
  /** `urn:epc:tag:…`: keeps the filter value, maps one to one to the hex */
  tagUri: string;
  /** `urn:epc:id:…`: the pure identity (GTIN + serial, SSCC, GRAI) that business systems use */
  idUri: string;
}

interface TdsEpc {
  toTagURI(): string;
  toIdURI(): string;
  toHexString(): string;
}
interface Tds {
  valueOf(hex: string): TdsEpc;
}
// epc-tds is CommonJS with `export default` in its typings: under NodeNext the default import is
// module.exports itself at run time, but typed as a namespace holding `default` (DEPENDENCIES.md).
const tds: Tds = ((epcTdsModule as unknown as { default?: Tds }).default ?? epcTdsModule) as unknown as Tds;

/** EPC header byte → scheme; only these are decoded (TDS 2.x table 14-1). */
const SCHEMES: ReadonlyMap<string, EpcScheme> = new Map([
  ['30', 'sgtin-96'],
  ['31', 'sscc-96'],
  ['33', 'grai-96'],
]);
const HEX_96 = /^[0-9A-F]{24}$/;

/** Decodes a hex EPC of one of the three schemes; null for anything else, never a throw. */
export function decodeEpc(epc: string): DecodedEpc | null {
  const hex = epc.toUpperCase();
  // epc-tds neither checks the length nor the digits ('33' decodes as a GRAI-96), so both are checked here.
  if (!HEX_96.test(hex)) return null;
  const scheme = SCHEMES.get(hex.slice(0, 2));
  if (scheme === undefined) return null;
  try {
    const decoded = tds.valueOf(hex);
    const tagUri = decoded.toTagURI();
    // A reserved partition value makes epc-tds throw or print nonsense; a URI it cannot turn back
    // into the same bits is not one to send to a lender.
    if (decoded.toHexString() !== hex || !tagUri.startsWith(`urn:epc:tag:${scheme}:`)) return null;
    return { hex, scheme, tagUri, idUri: decoded.toIdURI() };
  } catch {
    return null;
  }
}

/**
 * The tag URI of an EPC, remembered: a reader sees the same few thousand tags over and over, and a
 * decode costs far more than a map lookup. Bounded (oldest entry evicted first) so a stream of
 * garbage EPCs cannot grow it without end.
 */
export class EpcUriCache {
  private readonly maxEntries: number;
  private readonly entries = new Map<string, string | null>();

  constructor(maxEntries = 20_000) {
    this.maxEntries = Math.max(1, maxEntries);
  }

  /** The `urn:epc:tag:…` URI of an upper-case hex EPC, or undefined when it is not one of the decoded schemes. */
  uri(epc: string): string | undefined {
    let uri = this.entries.get(epc);
    if (uri === undefined) {
      uri = decodeEpc(epc)?.tagUri ?? null;
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      this.entries.set(epc, uri);
    }
    return uri ?? undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}
