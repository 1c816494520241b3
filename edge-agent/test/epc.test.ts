/**
 * EPC decoding, golden: the TDS examples in ../shared/testdata/README.md, plus an SSCC-96 and a
 * GRAI-96 built with epc-tds's encoders (the hex below is what they wrote; the test re-encodes).
 */
import epcTdsModule from 'epc-tds';
import { describe, expect, it } from 'vitest';
import { decodeEpc, EpcUriCache } from '../src/index.ts';

interface Encoder {
  setFilter(n: number): this;
  setPartition(n: number): this;
  setCompanyPrefix(n: number): this;
  toHexString(): string;
}
interface TdsForTests {
  Sscc96: new () => Encoder & { setSerialReference(n: number): Encoder };
  Grai96: new () => Encoder & { setAssetType(n: number): Encoder & { setSerial(n: number): Encoder } };
}
// CommonJS default-export quirk, as in src/epc.ts
const tds = ((epcTdsModule as unknown as { default?: TdsForTests }).default ?? epcTdsModule) as unknown as TdsForTests;

const SSCC = '3154257BF4499602D2000000';
const GRAI = '3334257BF40C0E400000162E';

describe('EPC decoding', () => {
  it('decodes the TDS SGTIN-96 examples to their tag and pure-identity URIs', () => {
    expect(decodeEpc('3074257BF7194E4000001A85')).toEqual({
      hex: '3074257BF7194E4000001A85',
      scheme: 'sgtin-96',
      tagUri: 'urn:epc:tag:sgtin-96:3.0614141.812345.6789',
      idUri: 'urn:epc:id:sgtin:0614141.812345.6789',
    });
    expect(decodeEpc('30C579D5D4ADB60000000000')?.tagUri).toBe('urn:epc:tag:sgtin-96:6.50712192365.88.0');
    expect(decodeEpc('3074257bf7194e4000001a85')?.hex).toBe('3074257BF7194E4000001A85');
  });

  it('decodes an SSCC-96 (a pallet) and a GRAI-96 (a returnable asset) built with the encoder', () => {
    const sscc = new tds.Sscc96().setFilter(2).setPartition(5).setCompanyPrefix(614141).setSerialReference(1234567890);
    expect(sscc.toHexString()).toBe(SSCC);
    expect(decodeEpc(SSCC)).toEqual({
      hex: SSCC,
      scheme: 'sscc-96',
      tagUri: 'urn:epc:tag:sscc-96:2.0614141.1234567890',
      idUri: 'urn:epc:id:sscc:0614141.1234567890',
    });
    const grai = new tds.Grai96().setFilter(1).setPartition(5).setCompanyPrefix(614141).setAssetType(12345).setSerial(5678);
    expect(grai.toHexString()).toBe(GRAI);
    expect(decodeEpc(GRAI)).toEqual({
      hex: GRAI,
      scheme: 'grai-96',
      tagUri: 'urn:epc:tag:grai-96:1.0614141.12345.5678',
      idUri: 'urn:epc:id:grai:0614141.12345.5678',
    });
  });

  it('passes anything else through as hex only', () => {
    expect(decodeEpc('E2801160600002054CC2096F')).toBeNull(); // TID-style, no EPC header
    expect(decodeEpc('3278E61C883950F59A000000')).toBeNull(); // SGLN-96: decodable, but not a pledged-goods scheme
    expect(decodeEpc('33')).toBeNull(); // epc-tds alone would call this a GRAI-96
    expect(decodeEpc('3074257BF7194E4000001A8')).toBeNull(); // 92 bits
    expect(decodeEpc('3074257BF7194E4000001AZZ')).toBeNull(); // epc-tds alone would read ZZ as FF
    expect(decodeEpc('301C257BF7194E4000001A85')).toBeNull(); // reserved partition 7
    expect(decodeEpc('30340000000000000000000000000000')).toBeNull(); // SGTIN header on a 128-bit EPC
  });

  it('remembers decodes, misses included, and stays within its bound', () => {
    const cache = new EpcUriCache(2);
    expect(cache.uri('3074257BF7194E4000001A85')).toBe('urn:epc:tag:sgtin-96:3.0614141.812345.6789');
    expect(cache.uri('E2801160600002054CC2096F')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.uri(SSCC)).toBe('urn:epc:tag:sscc-96:2.0614141.1234567890');
    expect(cache.size).toBe(2);
    expect(cache.uri('3074257BF7194E4000001A85')).toBe('urn:epc:tag:sgtin-96:3.0614141.812345.6789');
  });
});
