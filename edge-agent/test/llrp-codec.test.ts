/** The LLRP codec's own rules: header bits, the TLV/TV walker, the framer's limits, and what the driver sends. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as llrp from '../src/readers/llrp/codec.ts';
import { inventoryRospec, readerConfig, REPORT_SPEC } from '../src/readers/llrp/setup.ts';
import { TESTDATA } from './llrp-xml.ts';

const { MessageType: M, ParamType: P, TvType: T } = llrp;

describe('LLRP header', () => {
  it('packs 3 reserved bits, a 3-bit version and a 10-bit type, then length and id', () => {
    const frame = llrp.encodeFrame(M.CUSTOM_MESSAGE, 0xfffffffe, Buffer.from([1, 2]), 2);
    expect(frame.subarray(0, 10).toString('hex')).toBe('0bff0000000cfffffffe');
    expect(llrp.decodeHeader(frame)).toEqual({ version: 2, type: 1023, length: 12, id: 0xfffffffe });
    expect(() => llrp.parseFrame(frame.subarray(0, 11))).toThrow(/says 12 bytes, frame has 11/);
  });

  it('maps requests to their responses', () => {
    expect(llrp.responseTypeOf(M.ADD_ROSPEC)).toBe(M.ADD_ROSPEC_RESPONSE);
    expect(llrp.responseTypeOf(M.CLOSE_CONNECTION)).toBe(M.CLOSE_CONNECTION_RESPONSE);
    expect(llrp.responseTypeOf(M.GET_READER_CAPABILITIES)).toBe(M.GET_READER_CAPABILITIES_RESPONSE);
    expect(llrp.responseTypeOf(M.KEEPALIVE_ACK)).toBeUndefined();
    expect(llrp.messageName(999)).toBe('MESSAGE_999');
  });
});

describe('LLRP parameter walker', () => {
  const custom = llrp.tlv(P.Custom, Buffer.from('0000651a00000001ff', 'hex'));
  const antenna = llrp.tv(T.AntennaID, Buffer.from([0, 3]));
  const epc = llrp.tv(T.EPC_96, Buffer.from('3034257BF7194E4000001A85', 'hex'));

  it('skips unknown TLV and Custom parameters by their length and keeps reading after them', () => {
    const unknown = llrp.tlv(900, Buffer.alloc(7));
    const tag = llrp.decodeTagReportData(Buffer.concat([epc, custom, unknown, antenna]));
    expect(tag).toEqual({ epc: '3034257BF7194E4000001A85', epcBits: 96, antennaId: 3 });
  });

  it('stops at a TV type it does not know (its length is unknowable) and keeps what came before', () => {
    const report = Buffer.concat([
      llrp.tlv(P.TagReportData, epc, Buffer.from([0x80 | 99, 1, 2, 3]), antenna),
      llrp.tlv(P.TagReportData, epc, antenna),
    ]);
    const { tags } = llrp.decodeRoAccessReport(report);
    expect(tags).toEqual([
      { epc: '3034257BF7194E4000001A85', epcBits: 96 },
      { epc: '3034257BF7194E4000001A85', epcBits: 96, antennaId: 3 },
    ]);
  });

  it('throws on a TLV length that overruns its container or is shorter than its header', () => {
    const bad = Buffer.from(llrp.tlv(P.TagReportData, epc));
    bad.writeUInt16BE(200, 2);
    expect(() => llrp.decodeRoAccessReport(bad)).toThrow(llrp.LlrpDecodeError);
    bad.writeUInt16BE(2, 2);
    expect(() => llrp.decodeRoAccessReport(bad)).toThrow(/bad length 2/);
    expect(() => llrp.decodeRoAccessReport(Buffer.concat([epc.subarray(0, 5)]))).toThrow(/overruns/);
  });

  it('names the field a short parameter lacks', () => {
    expect(() => llrp.decodeStatusBody(llrp.tlv(P.LLRPStatus, Buffer.from([0, 0, 0, 9, 65])))).toThrow(/LLRPStatus is cut short/);
  });
});

describe('LLRP framer', () => {
  const frames = fc.array(
    fc.record({ type: fc.integer({ min: 0, max: 1023 }), id: fc.nat(), body: fc.uint8Array({ maxLength: 300 }) }),
    { maxLength: 30 },
  );

  it('returns the same frames however the stream is cut (property)', () => {
    fc.assert(
      fc.property(frames, fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (list, sizes) => {
        const stream = Buffer.concat(list.map((f) => llrp.encodeFrame(f.type, f.id, Buffer.from(f.body))));
        const reader = new llrp.FrameReader();
        const out: llrp.LlrpFrame[] = [];
        for (let at = 0, i = 0; at < stream.length; i++) {
          const n = sizes[i % sizes.length] as number;
          out.push(...reader.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(out.map((f) => [f.type, f.id, Buffer.from(f.body).toString('hex')])).toEqual(list.map((f) => [f.type, f.id, Buffer.from(f.body).toString('hex')]));
        expect(reader.pending).toBe(0);
      }),
    );
  });

  it('refuses a header whose length is shorter than a header or beyond the cap', () => {
    const short = Buffer.from('043d0000000900000000', 'hex');
    expect(() => new llrp.FrameReader().push(short)).toThrow(/declares length 9/);
    const huge = llrp.encodeHeader(M.RO_ACCESS_REPORT, 1, 2048);
    expect(() => new llrp.FrameReader(1024).push(huge)).toThrow(/declares length 2058 \(> 1024\)/);
    expect(new llrp.FrameReader().push(huge)).toEqual([]);
  });
});

describe('what the driver sends', () => {
  it('SET_READER_CONFIG: factory reset, the events it acts on, the report spec and periodic keepalives', () => {
    const frame = llrp.parseFrame(llrp.encodeSetReaderConfig(5, readerConfig(10_000)));
    expect(frame).toMatchObject({ type: M.SET_READER_CONFIG, id: 5, version: 1 });
    const config = llrp.decodeSetReaderConfig(frame.body);
    expect(config).toMatchObject({ resetToFactoryDefault: true, keepalive: { triggerType: 1, periodMs: 10_000 }, reportSpec: REPORT_SPEC });
    const enabled = config.eventNotifications?.filter((e) => e.enabled).map((e) => e.eventType);
    expect(enabled).toEqual(expect.arrayContaining([llrp.ReaderEventType.AISpecEvent, llrp.ReaderEventType.AntennaEvent, llrp.ReaderEventType.ROSpecEvent]));
    expect(REPORT_SPEC.contents).toEqual({ ...llrp.NO_CONTENTS, antennaId: true, peakRssi: true, firstSeen: true, tagSeenCount: true });
  });

  it('ADD_ROSPEC: continuous inventory on the configured antennas, one AISpec run and report per round', () => {
    const rospec = llrp.decodeAddRospec(llrp.parseFrame(llrp.encodeAddRospec(9, inventoryRospec([1, 3], 750))).body);
    expect(rospec).toEqual({
      id: 1,
      priority: 0,
      currentState: 0,
      startTrigger: { type: llrp.StartTriggerType.Null },
      stopTrigger: { type: llrp.StopTriggerType.Null, durationMs: 0 },
      aiSpecs: [{ antennaIds: [1, 3], stopTrigger: { type: llrp.StopTriggerType.Duration, durationMs: 750 }, inventory: [{ id: 1, protocolId: 1, antennaConfigurations: 0 }] }],
      reportSpec: { trigger: llrp.ROReportTrigger.UponNTagsOrEndOfAISpec, n: 0, contents: REPORT_SPEC.contents },
    });
  });

  it('encodes the LTK ADD_ROSPEC byte for byte, less its vendor Custom parameter', () => {
    const bytes = readFileSync(join(TESTDATA, 'ltk', 'ADD_ROSPEC.bin'));
    const rospec = llrp.decodeAddRospec(llrp.parseFrame(bytes).body);
    // The Custom parameter is the last 13 bytes, inside the ROSpec: drop it and shorten both lengths.
    const expected = Buffer.from(bytes.subarray(0, bytes.length - 13));
    expected.writeUInt32BE(expected.length, 2);
    expected.writeUInt16BE(expected.readUInt16BE(12) - 13, 12);
    expect(llrp.encodeAddRospec(4, rospec)).toEqual(expected);
  });

  it('KEEPALIVE_ACK echoes the keepalive id; CLOSE_CONNECTION has no body', () => {
    expect(llrp.encodeKeepaliveAck(77).toString('hex')).toBe('0448' + '0000000a' + '0000004d');
    expect(llrp.encodeCloseConnection(3).toString('hex')).toBe('040e' + '0000000a' + '00000003');
  });
});
