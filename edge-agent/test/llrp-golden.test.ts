/**
 * The LLRP codec against captures it was not written from: the LLRP Toolkit's frames with their
 * XML renderings, the dx101 streams of back-to-back frames, and EdgeX's real reader captures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as llrp from '../src/readers/llrp/codec.ts';
import { expectedNotification, expectedRospec, expectedSetReaderConfig, expectedTag, requestedDataOf } from './llrp-expect.ts';
import { seededRandom } from './helpers.ts';
import { block, blocks, bool, leaf, num, readXml, TESTDATA, xmlMessages, type XmlMessage } from './llrp-xml.ts';

const LTK = join(TESTDATA, 'ltk');
const EDGEX = join(TESTDATA, 'edgex');
const { MessageType: M } = llrp;

/** Parameters our encoders do not write: a frame holding one cannot be re-encoded byte for byte. */
const NOT_ENCODED = /<(?:llrp:)?(Custom|AntennaConfiguration|AntennaProperties|GPITriggerValue|PeriodicTriggerValue|GPOWriteData|GPIPortCurrentState|C1G2EPCMemorySelector)\b/;
const ROSPEC_ID_MESSAGES = new Set<number>([M.DELETE_ROSPEC, M.ENABLE_ROSPEC, M.START_ROSPEC, M.STOP_ROSPEC, M.DISABLE_ROSPEC]);

/** Decodes one frame and checks it against its XML twin; returns how many tag reports it compared. */
function checkFrame(frame: llrp.LlrpFrame, bytes: Buffer, msg: XmlMessage): number {
  expect(llrp.messageName(frame.type)).toBe(msg.name);
  expect(frame.id).toBe(msg.id);
  expect(frame.length).toBe(bytes.length);
  expect(frame.version).toBe(1);
  const xml = msg.xml;
  const exact = !NOT_ENCODED.test(xml);
  const status = block(xml, 'LLRPStatus');
  if (status !== undefined) {
    const decoded = llrp.decodeStatusBody(frame.body, msg.name);
    expect(llrp.statusName(decoded.code)).toBe(leaf(status, 'StatusCode'));
    expect(decoded.description).toBe(leaf(status, 'ErrorDescription') ?? '');
    const field = block(status, 'FieldError');
    if (field !== undefined) {
      expect(decoded.fieldError?.fieldNum).toBe(num(leaf(field, 'FieldNum')));
      expect(llrp.statusName(decoded.fieldError?.errorCode ?? -1)).toBe(leaf(field, 'ErrorCode'));
    }
    const statusOnly = xml.replace(/<(?:llrp:)?LLRPStatus>[\s\S]*?<\/(?:llrp:)?LLRPStatus>/, '').trim() === '';
    if (statusOnly) expect(llrp.encodeStatusResponse(frame.type, frame.id, decoded)).toEqual(bytes);
  }
  switch (frame.type) {
    case M.RO_ACCESS_REPORT: {
      const report = llrp.decodeRoAccessReport(frame.body);
      expect(report.tags).toEqual(blocks(xml, 'TagReportData').map(expectedTag));
      expect(llrp.encodeRoAccessReport(frame.id, report.tags)).toEqual(bytes);
      return report.tags.length;
    }
    case M.READER_EVENT_NOTIFICATION: {
      const notification = llrp.decodeReaderEventNotification(frame.body);
      const expected = expectedNotification(xml);
      expect(notification.timestampUs).toBe(expected.timestampUs);
      expect(notification.clock).toBe('utc');
      expect(notification.events).toEqual(expected.events);
      expect(llrp.encodeReaderEventNotification(frame.id, notification)).toEqual(bytes);
      return 0;
    }
    case M.ADD_ROSPEC: {
      const rospec = llrp.decodeAddRospec(frame.body);
      expect(rospec).toEqual(expectedRospec(xml));
      if (exact) expect(llrp.encodeAddRospec(frame.id, rospec)).toEqual(bytes);
      return 0;
    }
    case M.SET_READER_CONFIG: {
      const config = llrp.decodeSetReaderConfig(frame.body);
      expect(config).toEqual(expectedSetReaderConfig(xml));
      if (exact) expect(llrp.encodeSetReaderConfig(frame.id, config)).toEqual(bytes);
      return 0;
    }
    case M.GET_READER_CAPABILITIES: {
      const request = llrp.decodeGetReaderCapabilities(frame.body);
      expect(request.requestedData).toBe(requestedDataOf(leaf(xml, 'RequestedData')));
      expect(llrp.encodeGetReaderCapabilities(frame.id, request.requestedData)).toEqual(bytes);
      return 0;
    }
    case M.GET_READER_CONFIG:
      expect(llrp.decodeGetReaderConfig(frame.body)).toEqual({
        antennaId: num(leaf(xml, 'AntennaID')),
        requestedData: requestedDataOf(leaf(xml, 'RequestedData')),
        gpiPortNum: num(leaf(xml, 'GPIPortNum')),
        gpoPortNum: num(leaf(xml, 'GPOPortNum')),
      });
      return 0;
    case M.GET_READER_CAPABILITIES_RESPONSE: {
      const { general } = llrp.decodeCapabilitiesResponse(frame.body);
      const g = block(xml, 'GeneralDeviceCapabilities') ?? '';
      expect(general).toMatchObject({
        maxAntennas: num(leaf(g, 'MaxNumberOfAntennaSupported')),
        canSetAntennaProperties: bool(leaf(g, 'CanSetAntennaProperties')),
        hasUtcClock: bool(leaf(g, 'HasUTCClockCapability')),
        manufacturer: num(leaf(g, 'DeviceManufacturerName')),
        model: num(leaf(g, 'ModelName')),
        firmware: leaf(g, 'ReaderFirmwareVersion'),
      });
      expect(general?.antennaProtocols.map((a) => a.antennaId)).toEqual(blocks(g, 'PerAntennaAirProtocol').map((a) => num(leaf(a, 'AntennaID'))));
      return 0;
    }
    case M.GET_READER_CONFIG_RESPONSE: {
      const config = llrp.decodeReaderConfigResponse(frame.body);
      expect(config.antennas).toHaveLength(blocks(xml, 'AntennaProperties').length);
      expect(config.reportSpec).toEqual(expectedSetReaderConfig(xml).reportSpec);
      return 0;
    }
    case M.CUSTOM_MESSAGE: {
      const custom = llrp.decodeCustomMessage(frame.body);
      expect(custom.vendor).toBe(num(leaf(xml, 'VendorIdentifier')));
      expect(custom.subtype).toBe(num(leaf(xml, 'MessageSubtype')));
      expect(custom.data.toString('hex')).toBe(leaf(xml, 'Data')?.toLowerCase());
      return 0;
    }
    case M.CLOSE_CONNECTION:
      expect(llrp.encodeCloseConnection(frame.id)).toEqual(bytes);
      return 0;
  }
  if (ROSPEC_ID_MESSAGES.has(frame.type)) {
    const rospecId = llrp.decodeRospecId(frame.body);
    expect(rospecId).toBe(num(leaf(xml, 'ROSpecID')));
    expect(llrp.encodeRospecIdMessage(frame.type, frame.id, rospecId)).toEqual(bytes);
  }
  return 0;
}

/** Cuts a stream into chunks of the sizes `size()` picks. */
function chunks(stream: Buffer, size: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = Math.max(1, size());
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  return out;
}

function frameAll(parts: Buffer[]): llrp.LlrpFrame[] {
  const reader = new llrp.FrameReader();
  const frames = parts.flatMap((part) => reader.push(part));
  expect(reader.pending).toBe(0);
  return frames;
}

describe('LLRP codec: LTK single frames', () => {
  const files = readdirSync(LTK).filter((f) => f.endsWith('.bin') && !f.startsWith('dx101'));

  it('finds the 13 single-frame captures', () => {
    expect(files).toHaveLength(13);
  });

  it.each(files)('%s decodes to its XML twin', (file) => {
    const bytes = readFileSync(join(LTK, file));
    const [msg, ...rest] = xmlMessages(readXml(join(LTK, file.replace(/\.bin$/, '.xml'))));
    expect(rest).toEqual([]);
    const frame = llrp.parseFrame(bytes);
    checkFrame(frame, bytes, msg as XmlMessage);
  });

  it('skips the Custom parameter inside ADD_ROSPEC, and reads the ROSpec around it', () => {
    const rospec = llrp.decodeAddRospec(llrp.parseFrame(readFileSync(join(LTK, 'ADD_ROSPEC.bin'))).body);
    expect(rospec).toMatchObject({ id: 1, aiSpecs: [{ antennaIds: [0], inventory: [{ id: 9, protocolId: 1 }] }] });
  });
});

describe.each(['dx101_a', 'dx101_b'])('LLRP codec: the %s stream', (name) => {
  const stream = readFileSync(join(LTK, `${name}.bin`));
  const messages = xmlMessages(readXml(join(LTK, `${name}.xml`)));
  const whole = frameAll([stream]);

  it('frames the whole stream into exactly the messages of the XML, each matching its twin', () => {
    if (name === 'dx101_a') expect(messages).toHaveLength(934);
    expect(whole).toHaveLength(messages.length);
    let offset = 0;
    let tags = 0;
    whole.forEach((frame, i) => {
      const bytes = stream.subarray(offset, offset + frame.length);
      offset += frame.length;
      tags += checkFrame(frame, bytes, messages[i] as XmlMessage);
    });
    expect(offset).toBe(stream.length);
    expect(tags).toBe(messages.reduce((n, m) => n + blocks(m.xml, 'TagReportData').length, 0));
    expect(tags).toBeGreaterThan(100);
  });

  const same = (frames: llrp.LlrpFrame[]) => {
    expect(frames).toHaveLength(whole.length);
    frames.forEach((f, i) => {
      const w = whole[i] as llrp.LlrpFrame;
      expect([f.type, f.id, f.length]).toEqual([w.type, w.id, w.length]);
      expect(f.body.equals(w.body)).toBe(true);
    });
  };

  it('gives the same frames fed one byte at a time', () => same(frameAll(chunks(stream, () => 1))));

  it.each([1, 2, 3])('gives the same frames fed in random-sized chunks (seed %i)', (seed) => {
    const random = seededRandom(seed);
    same(frameAll(chunks(stream, () => Math.floor(random() * 700))));
  });

  it('gives the same frames cut exactly at and around every header', () => {
    const cuts = chunks(stream, () => 9);
    same(frameAll(cuts));
    same(frameAll(chunks(stream, () => 10)));
    same(frameAll(chunks(stream, () => 11)));
  });
});

describe('LLRP codec: EdgeX reader captures (bodies, header prepended)', () => {
  const TYPES: Record<string, number> = {
    ROAccessReport: M.RO_ACCESS_REPORT,
    ReaderEventNotification: M.READER_EVENT_NOTIFICATION,
    CloseConnectionResponse: M.CLOSE_CONNECTION_RESPONSE,
    GetAccessSpecsResponse: M.GET_ACCESSSPECS_RESPONSE,
    GetROSpecsResponse: M.GET_ROSPECS_RESPONSE,
    GetReaderCapabilitiesResponse: M.GET_READER_CAPABILITIES_RESPONSE,
    GetReaderConfigResponse: M.GET_READER_CONFIG_RESPONSE,
  };
  const files = readdirSync(EDGEX).filter((f) => f.endsWith('.bytes'));
  const load = (file: string) => {
    const body = readFileSync(join(EDGEX, file));
    const kind = file.replace(/-\d+\.bytes$/, '');
    const type = TYPES[kind];
    if (type === undefined) throw new Error(`no message type for ${file}`);
    const bytes = llrp.encodeFrame(type, 7, body);
    const [frame] = frameAll([bytes]);
    return { frame: frame as llrp.LlrpFrame, json: JSON.parse(readFileSync(join(EDGEX, file.replace(/\.bytes$/, '.json')), 'utf8')) as EdgexJson, kind };
  };

  interface EdgexJson {
    LLRPStatus?: { Status: number; ErrorDescription: string };
    TagReportData?: { EPC96: { EPC: string } | null; AntennaID: number | null; PeakRSSI: number | null; FirstSeenUTC: number | null; LastSeenUTC: number | null }[];
    ReaderEventNotificationData?: { UTCTimestamp: number; ConnectionCloseEvent: object | null; ConnectionAttemptEvent: number | null };
    GeneralDeviceCapabilities?: { MaxSupportedAntennas: number; HasUTCClock: boolean; DeviceManufacturer: number; Model: number; FirmwareVersion: string };
    KeepAliveSpec?: { Trigger: number; Interval: number };
    AntennaProperties?: unknown[];
  }

  it.each(files)('%s decodes to the values of its JSON twin', (file) => {
    const { frame, json, kind } = load(file);
    expect(frame.length).toBe(10 + frame.body.length);
    if (json.LLRPStatus !== undefined) {
      expect(llrp.decodeStatusBody(frame.body)).toMatchObject({ code: json.LLRPStatus.Status, description: json.LLRPStatus.ErrorDescription });
    }
    if (kind === 'ROAccessReport') {
      const { tags } = llrp.decodeRoAccessReport(frame.body);
      expect(tags).toEqual(
        (json.TagReportData ?? []).map((t) => ({
          epc: Buffer.from(t.EPC96?.EPC ?? '', 'base64').toString('hex').toUpperCase(),
          epcBits: 96,
          antennaId: t.AntennaID,
          peakRssi: t.PeakRSSI,
          firstSeenUtcUs: t.FirstSeenUTC,
        })),
      );
    }
    if (kind === 'ReaderEventNotification') {
      const n = llrp.decodeReaderEventNotification(frame.body);
      expect(n.timestampUs).toBe(json.ReaderEventNotificationData?.UTCTimestamp);
      expect(n.events).toEqual([{ kind: 'connectionClose' }]);
    }
    if (kind === 'GetReaderCapabilitiesResponse') {
      const g = json.GeneralDeviceCapabilities;
      expect(llrp.decodeCapabilitiesResponse(frame.body).general).toMatchObject({
        maxAntennas: g?.MaxSupportedAntennas,
        hasUtcClock: g?.HasUTCClock,
        manufacturer: g?.DeviceManufacturer,
        model: g?.Model,
        firmware: g?.FirmwareVersion,
      });
    }
    if (kind === 'GetReaderConfigResponse') {
      const config = llrp.decodeReaderConfigResponse(frame.body);
      expect(config.keepalive).toEqual({ triggerType: json.KeepAliveSpec?.Trigger, periodMs: json.KeepAliveSpec?.Interval });
      expect(config.antennas).toHaveLength(json.AntennaProperties?.length ?? -1);
      expect(config.reportSpec?.contents).toMatchObject({ antennaId: true, peakRssi: true, firstSeen: true, lastSeen: false });
    }
  });

  it('frames all EdgeX reports sent back to back in one buffer', () => {
    const reports = files.filter((f) => f.startsWith('ROAccessReport')).map((f) => load(f).frame);
    const stream = Buffer.concat(reports.map((f) => llrp.encodeFrame(f.type, f.id, f.body)));
    const frames = frameAll(chunks(stream, () => 5));
    expect(frames.flatMap((f) => llrp.decodeRoAccessReport(f.body).tags.map((t) => t.epc))).toHaveLength(reports.length);
  });
});
