/**
 * Reader configuration parameters shared by SET_READER_CONFIG, GET_READER_CONFIG_RESPONSE and
 * ADD_ROSPEC: report spec, keepalive, event notifications, antenna properties.
 */
import { ParamType } from './constants.ts';
import { FieldReader, FieldWriter, tlv } from './params.ts';

/** TagReportContentSelector: which optional fields each TagReportData carries. */
export interface TagReportContents {
  rospecId: boolean;
  specIndex: boolean;
  inventoryParameterSpecId: boolean;
  antennaId: boolean;
  channelIndex: boolean;
  peakRssi: boolean;
  firstSeen: boolean;
  lastSeen: boolean;
  tagSeenCount: boolean;
  accessSpecId: boolean;
}

/** Selector bits from the most significant down, as on the wire. */
const SELECTOR_FIELDS: readonly (keyof TagReportContents)[] = [
  'rospecId',
  'specIndex',
  'inventoryParameterSpecId',
  'antennaId',
  'channelIndex',
  'peakRssi',
  'firstSeen',
  'lastSeen',
  'tagSeenCount',
  'accessSpecId',
];

export const NO_CONTENTS: TagReportContents = Object.freeze({
  rospecId: false,
  specIndex: false,
  inventoryParameterSpecId: false,
  antennaId: false,
  channelIndex: false,
  peakRssi: false,
  firstSeen: false,
  lastSeen: false,
  tagSeenCount: false,
  accessSpecId: false,
});

export interface ReportSpec {
  /** ROReportTrigger: 0 none, 1 upon N tags or end of AISpec, 2 upon N tags or end of ROSpec */
  trigger: number;
  /** 0 = no tag-count limit: report only at the end of the AISpec / ROSpec */
  n: number;
  contents: TagReportContents;
}

export interface KeepaliveSpec {
  /** 0 null (no keepalives), 1 periodic */
  triggerType: number;
  periodMs: number;
}

export interface EventNotificationState {
  eventType: number;
  enabled: boolean;
}

export interface AntennaProperties {
  antennaId: number;
  connected: boolean;
  /** dBi × 100 */
  gain: number;
}

export function decodeReportSpec(value: Buffer): ReportSpec {
  const r = new FieldReader(value, 'ROReportSpec');
  const spec: ReportSpec = { trigger: r.u8(), n: r.u16(), contents: { ...NO_CONTENTS } };
  for (const p of r.params()) {
    if (p.tv || p.type !== ParamType.TagReportContentSelector) continue;
    // Its air-protocol sub-parameters (C1G2EPCMemorySelector) follow the bits and are not needed.
    const bits = new FieldReader(p.value, 'TagReportContentSelector').u16();
    SELECTOR_FIELDS.forEach((field, i) => {
      spec.contents[field] = (bits & (0x8000 >> i)) !== 0;
    });
  }
  return spec;
}

export function encodeReportSpec(spec: ReportSpec): Buffer {
  const bits = SELECTOR_FIELDS.reduce((acc, field, i) => (spec.contents[field] ? acc | (0x8000 >> i) : acc), 0);
  const selector = tlv(ParamType.TagReportContentSelector, new FieldWriter().u16(bits).build());
  return tlv(ParamType.ROReportSpec, new FieldWriter().u8(spec.trigger).u16(spec.n).raw(selector).build());
}

export function decodeKeepaliveSpec(value: Buffer): KeepaliveSpec {
  const r = new FieldReader(value, 'KeepaliveSpec');
  return { triggerType: r.u8(), periodMs: r.u32() };
}

export function encodeKeepaliveSpec(spec: KeepaliveSpec): Buffer {
  return tlv(ParamType.KeepaliveSpec, new FieldWriter().u8(spec.triggerType).u32(spec.periodMs).build());
}

export function decodeEventNotificationSpec(value: Buffer): EventNotificationState[] {
  const states: EventNotificationState[] = [];
  for (const p of new FieldReader(value, 'ReaderEventNotificationSpec').params()) {
    if (p.tv || p.type !== ParamType.EventNotificationState) continue;
    const r = new FieldReader(p.value, 'EventNotificationState');
    states.push({ eventType: r.u16(), enabled: (r.u8() & 0x80) !== 0 });
  }
  return states;
}

export function encodeEventNotificationSpec(states: readonly EventNotificationState[]): Buffer {
  const params = states.map((s) => tlv(ParamType.EventNotificationState, new FieldWriter().u16(s.eventType).u8(s.enabled ? 0x80 : 0).build()));
  return tlv(ParamType.ReaderEventNotificationSpec, ...params);
}

/** The top bit of a one-byte value (EventsAndReports, ResetToFactoryDefault). */
export function decodeFlag(value: Buffer, what: string): boolean {
  return (new FieldReader(value, what).u8() & 0x80) !== 0;
}

export function encodeFlagParam(type: number, flag: boolean): Buffer {
  return tlv(type, Buffer.of(flag ? 0x80 : 0));
}

export function decodeAntennaProperties(value: Buffer): AntennaProperties {
  const r = new FieldReader(value, 'AntennaProperties');
  const connected = (r.u8() & 0x80) !== 0;
  return { connected, antennaId: r.u16(), gain: r.s16() };
}
