/** RO_ACCESS_REPORT: TagReportData parameters, decoded and (for the emulator) encoded. */
import { MessageType, ParamType, TvType } from './constants.ts';
import { encodeFrame } from './frames.ts';
import { FieldReader, walkParams } from './params.ts';

/** One TagReportData. Every field but the EPC is present only if the reader was asked for it. */
export interface TagReport {
  /** upper-case hex of the EPC bytes */
  epc?: string;
  /** EPC length in bits (96 for EPC-96) */
  epcBits?: number;
  rospecId?: number;
  specIndex?: number;
  inventoryParameterSpecId?: number;
  antennaId?: number;
  /** dBm */
  peakRssi?: number;
  channelIndex?: number;
  /** microseconds since the Unix epoch, on the reader's clock */
  firstSeenUtcUs?: number;
  /** microseconds since the reader booted */
  firstSeenUptimeUs?: number;
  lastSeenUtcUs?: number;
  lastSeenUptimeUs?: number;
  tagSeenCount?: number;
  pc?: number;
  crc?: number;
  accessSpecId?: number;
}

export interface RoAccessReport {
  tags: TagReport[];
}

/** Body of an RO_ACCESS_REPORT. RFSurveyReportData and Custom parameters are skipped. */
export function decodeRoAccessReport(body: Buffer): RoAccessReport {
  const tags: TagReport[] = [];
  for (const p of walkParams(body)) if (p.type === ParamType.TagReportData && !p.tv) tags.push(decodeTagReportData(p.value));
  return { tags };
}

export function decodeTagReportData(value: Buffer): TagReport {
  const tag: TagReport = {};
  for (const p of walkParams(value)) {
    if (!p.tv) {
      if (p.type === ParamType.EPCData) {
        const r = new FieldReader(p.value, 'EPCData');
        tag.epcBits = r.u16();
        tag.epc = r.bytes(Math.ceil(tag.epcBits / 8)).toString('hex').toUpperCase();
      }
      // Custom, OpSpecResults and unknown TLVs are skipped by their length.
      continue;
    }
    const v = p.value;
    switch (p.type) {
      case TvType.EPC_96:
        tag.epc = v.toString('hex').toUpperCase();
        tag.epcBits = 96;
        break;
      case TvType.ROSpecID:
        tag.rospecId = v.readUInt32BE(0);
        break;
      case TvType.SpecIndex:
        tag.specIndex = v.readUInt16BE(0);
        break;
      case TvType.InventoryParameterSpecID:
        tag.inventoryParameterSpecId = v.readUInt16BE(0);
        break;
      case TvType.AntennaID:
        tag.antennaId = v.readUInt16BE(0);
        break;
      case TvType.PeakRSSI:
        tag.peakRssi = v.readInt8(0);
        break;
      case TvType.ChannelIndex:
        tag.channelIndex = v.readUInt16BE(0);
        break;
      case TvType.FirstSeenTimestampUTC:
        tag.firstSeenUtcUs = Number(v.readBigUInt64BE(0));
        break;
      case TvType.FirstSeenTimestampUptime:
        tag.firstSeenUptimeUs = Number(v.readBigUInt64BE(0));
        break;
      case TvType.LastSeenTimestampUTC:
        tag.lastSeenUtcUs = Number(v.readBigUInt64BE(0));
        break;
      case TvType.LastSeenTimestampUptime:
        tag.lastSeenUptimeUs = Number(v.readBigUInt64BE(0));
        break;
      case TvType.TagSeenCount:
        tag.tagSeenCount = v.readUInt16BE(0);
        break;
      case TvType.C1G2_PC:
        tag.pc = v.readUInt16BE(0);
        break;
      case TvType.C1G2_CRC:
        tag.crc = v.readUInt16BE(0);
        break;
      case TvType.AccessSpecID:
        tag.accessSpecId = v.readUInt32BE(0);
        break;
    }
  }
  return tag;
}

/** Every optional TV of a TagReportData at once: 4 × u64, 2 × u32, 7 × u16 and one s8, each after its type byte. */
const MAX_TV_BYTES = 4 * 9 + 2 * 5 + 7 * 3 + 2;

/**
 * TagReportData in the spec's parameter order, so a decoded report re-encodes to the same bytes.
 * Written into one buffer: the emulator encodes thousands of these per second.
 */
export function encodeTagReportData(tag: TagReport): Buffer {
  const epc = Buffer.from(tag.epc ?? '', 'hex');
  const bits = tag.epcBits ?? epc.length * 8;
  const b = Buffer.allocUnsafe(4 + 6 + epc.length + MAX_TV_BYTES);
  let at = 4;
  const put = (type: number, n: number | undefined, write: (n: number, at: number) => number) => {
    if (n === undefined) return;
    b[at] = 0x80 | type;
    at = write(n, at + 1);
  };
  const u16 = (n: number, o: number) => b.writeUInt16BE(n & 0xffff, o);
  const u32 = (n: number, o: number) => b.writeUInt32BE(n >>> 0, o);
  const u64 = (n: number, o: number) => b.writeBigUInt64BE(BigInt(Math.max(0, Math.trunc(n))), o);
  if (bits === 96 && epc.length === 12) {
    b[at] = 0x80 | TvType.EPC_96;
    at += 1 + epc.copy(b, at + 1);
  } else {
    b.writeUInt16BE(ParamType.EPCData, at);
    b.writeUInt16BE(6 + epc.length, at + 2);
    b.writeUInt16BE(bits, at + 4);
    at += 6 + epc.copy(b, at + 6);
  }
  put(TvType.ROSpecID, tag.rospecId, u32);
  put(TvType.SpecIndex, tag.specIndex, u16);
  put(TvType.InventoryParameterSpecID, tag.inventoryParameterSpecId, u16);
  put(TvType.AntennaID, tag.antennaId, u16);
  put(TvType.PeakRSSI, tag.peakRssi, (n, o) => b.writeInt8(n, o));
  put(TvType.ChannelIndex, tag.channelIndex, u16);
  put(TvType.FirstSeenTimestampUTC, tag.firstSeenUtcUs, u64);
  put(TvType.FirstSeenTimestampUptime, tag.firstSeenUptimeUs, u64);
  put(TvType.LastSeenTimestampUTC, tag.lastSeenUtcUs, u64);
  put(TvType.LastSeenTimestampUptime, tag.lastSeenUptimeUs, u64);
  put(TvType.TagSeenCount, tag.tagSeenCount, u16);
  put(TvType.C1G2_PC, tag.pc, u16);
  put(TvType.C1G2_CRC, tag.crc, u16);
  put(TvType.AccessSpecID, tag.accessSpecId, u32);
  b.writeUInt16BE(ParamType.TagReportData, 0);
  b.writeUInt16BE(at, 2);
  return b.subarray(0, at);
}

export function encodeRoAccessReport(id: number, tags: readonly TagReport[]): Buffer {
  return encodeFrame(MessageType.RO_ACCESS_REPORT, id, Buffer.concat(tags.map(encodeTagReportData)));
}
