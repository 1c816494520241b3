/**
 * Messages a client sends: encoders for the driver, decoders for the emulator and the golden tests.
 * ADD_ROSPEC lives in rospec.ts.
 */
import { MessageType, ParamType, RequestedData } from './constants.ts';
import {
  decodeEventNotificationSpec,
  decodeFlag,
  decodeKeepaliveSpec,
  decodeReportSpec,
  encodeEventNotificationSpec,
  encodeFlagParam,
  encodeKeepaliveSpec,
  encodeReportSpec,
  type EventNotificationState,
  type KeepaliveSpec,
  type ReportSpec,
} from './config-params.ts';
import { encodeFrame } from './frames.ts';
import { FieldReader, FieldWriter, tlv } from './params.ts';

export interface SetReaderConfig {
  resetToFactoryDefault: boolean;
  eventNotifications?: EventNotificationState[];
  reportSpec?: ReportSpec;
  /** AccessReportSpec trigger: 0 whenever an ROReport is generated, 1 end of AccessSpec */
  accessReportTrigger?: number;
  keepalive?: KeepaliveSpec;
  holdEventsAndReportsUponReconnect?: boolean;
}

export interface GetReaderConfig {
  antennaId: number;
  requestedData: number;
  gpiPortNum: number;
  gpoPortNum: number;
}

export interface CustomMessage {
  vendor: number;
  subtype: number;
  data: Buffer;
}

export function encodeGetReaderCapabilities(id: number, requestedData: number = RequestedData.GeneralDeviceCapabilities): Buffer {
  return encodeFrame(MessageType.GET_READER_CAPABILITIES, id, Buffer.of(requestedData));
}

export function decodeGetReaderCapabilities(body: Buffer): { requestedData: number } {
  return { requestedData: new FieldReader(body, 'GET_READER_CAPABILITIES').u8() };
}

export function decodeGetReaderConfig(body: Buffer): GetReaderConfig {
  const r = new FieldReader(body, 'GET_READER_CONFIG');
  return { antennaId: r.u16(), requestedData: r.u8(), gpiPortNum: r.u16(), gpoPortNum: r.u16() };
}

/** Parameters in the order the spec fixes for SET_READER_CONFIG. */
export function encodeSetReaderConfig(id: number, config: SetReaderConfig): Buffer {
  const w = new FieldWriter().u8(config.resetToFactoryDefault ? 0x80 : 0);
  if (config.eventNotifications !== undefined) w.raw(encodeEventNotificationSpec(config.eventNotifications));
  if (config.reportSpec !== undefined) w.raw(encodeReportSpec(config.reportSpec));
  if (config.accessReportTrigger !== undefined) w.raw(tlv(ParamType.AccessReportSpec, Buffer.of(config.accessReportTrigger)));
  if (config.keepalive !== undefined) w.raw(encodeKeepaliveSpec(config.keepalive));
  if (config.holdEventsAndReportsUponReconnect !== undefined) {
    w.raw(encodeFlagParam(ParamType.EventsAndReports, config.holdEventsAndReportsUponReconnect));
  }
  return encodeFrame(MessageType.SET_READER_CONFIG, id, w.build());
}

export function decodeSetReaderConfig(body: Buffer): SetReaderConfig {
  const r = new FieldReader(body, 'SET_READER_CONFIG');
  const config: SetReaderConfig = { resetToFactoryDefault: (r.u8() & 0x80) !== 0 };
  for (const p of r.params()) {
    if (p.tv) continue;
    switch (p.type) {
      case ParamType.ReaderEventNotificationSpec:
        config.eventNotifications = decodeEventNotificationSpec(p.value);
        break;
      case ParamType.ROReportSpec:
        config.reportSpec = decodeReportSpec(p.value);
        break;
      case ParamType.AccessReportSpec:
        config.accessReportTrigger = new FieldReader(p.value, 'AccessReportSpec').u8();
        break;
      case ParamType.KeepaliveSpec:
        config.keepalive = decodeKeepaliveSpec(p.value);
        break;
      case ParamType.EventsAndReports:
        config.holdEventsAndReportsUponReconnect = decodeFlag(p.value, 'EventsAndReports');
        break;
    }
  }
  return config;
}

/** DELETE_, ENABLE_, DISABLE_, START_ and STOP_ROSPEC: a ROSpecID and nothing else (0 = all, for delete/enable/disable). */
export function encodeRospecIdMessage(type: number, id: number, rospecId: number): Buffer {
  return encodeFrame(type, id, new FieldWriter().u32(rospecId).build());
}

export function decodeRospecId(body: Buffer): number {
  return new FieldReader(body, 'ROSpecID message').u32();
}

export function encodeKeepaliveAck(id: number): Buffer {
  return encodeFrame(MessageType.KEEPALIVE_ACK, id);
}

export function encodeCloseConnection(id: number): Buffer {
  return encodeFrame(MessageType.CLOSE_CONNECTION, id);
}

export function decodeCustomMessage(body: Buffer): CustomMessage {
  const r = new FieldReader(body, 'CUSTOM_MESSAGE');
  return { vendor: r.u32(), subtype: r.u8(), data: body.subarray(r.offset) };
}
