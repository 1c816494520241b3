/**
 * Messages a reader sends besides reports and notifications: responses with their LLRPStatus,
 * capabilities, configuration, KEEPALIVE and ERROR_MESSAGE. Decoders for the driver, encoders for
 * the emulator.
 */
import { AirProtocol, MessageType, ParamType } from './constants.ts';
import {
  decodeAntennaProperties,
  decodeEventNotificationSpec,
  decodeFlag,
  decodeKeepaliveSpec,
  decodeReportSpec,
  type AntennaProperties,
  type EventNotificationState,
  type KeepaliveSpec,
  type ReportSpec,
} from './config-params.ts';
import { encodeFrame } from './frames.ts';
import { FieldReader, FieldWriter, tlv, walkParams } from './params.ts';
import { encodeStatusParam, findStatus, type LlrpStatus } from './status.ts';

export interface GeneralDeviceCapabilities {
  maxAntennas: number;
  canSetAntennaProperties: boolean;
  hasUtcClock: boolean;
  manufacturer: number;
  model: number;
  firmware: string;
  /** antenna → air protocol ids it supports (PerAntennaAirProtocol) */
  antennaProtocols: { antennaId: number; protocols: number[] }[];
}

export interface CapabilitiesResponse {
  status: LlrpStatus;
  general?: GeneralDeviceCapabilities;
}

export interface ReaderConfigResponse {
  status: LlrpStatus;
  antennas: AntennaProperties[];
  eventNotifications: EventNotificationState[];
  reportSpec?: ReportSpec;
  keepalive?: KeepaliveSpec;
  holdEventsAndReportsUponReconnect?: boolean;
}

export function decodeCapabilitiesResponse(body: Buffer): CapabilitiesResponse {
  const response: CapabilitiesResponse = { status: findStatus(walkParams(body), 'GET_READER_CAPABILITIES_RESPONSE') };
  for (const p of walkParams(body)) if (p.type === ParamType.GeneralDeviceCapabilities && !p.tv) response.general = decodeGeneral(p.value);
  return response;
}

function decodeGeneral(value: Buffer): GeneralDeviceCapabilities {
  const r = new FieldReader(value, 'GeneralDeviceCapabilities');
  const maxAntennas = r.u16();
  const flags = r.u16();
  const general: GeneralDeviceCapabilities = {
    maxAntennas,
    canSetAntennaProperties: (flags & 0x8000) !== 0,
    hasUtcClock: (flags & 0x4000) !== 0,
    manufacturer: r.u32(),
    model: r.u32(),
    firmware: r.utf8(),
    antennaProtocols: [],
  };
  for (const p of r.params()) {
    if (p.tv || p.type !== ParamType.PerAntennaAirProtocol) continue;
    const a = new FieldReader(p.value, 'PerAntennaAirProtocol');
    const antennaId = a.u16();
    const count = a.u16();
    general.antennaProtocols.push({ antennaId, protocols: Array.from({ length: count }, () => a.u8()) });
  }
  return general;
}

/** A minimal, valid capabilities response: status and GeneralDeviceCapabilities with its required parts. */
export function encodeCapabilitiesResponse(id: number, status: LlrpStatus, general?: GeneralDeviceCapabilities): Buffer {
  const parts = [encodeStatusParam(status)];
  if (general !== undefined) {
    const flags = (general.canSetAntennaProperties ? 0x8000 : 0) | (general.hasUtcClock ? 0x4000 : 0);
    const w = new FieldWriter().u16(general.maxAntennas).u16(flags).u32(general.manufacturer).u32(general.model).utf8(general.firmware);
    w.raw(tlv(ParamType.ReceiveSensitivityTableEntry, new FieldWriter().u16(1).s16(0).build()));
    w.raw(tlv(ParamType.GPIOCapabilities, new FieldWriter().u16(0).u16(0).build()));
    for (const a of general.antennaProtocols) {
      const protocols = a.protocols.length > 0 ? a.protocols : [AirProtocol.EPCGlobalClass1Gen2];
      w.raw(tlv(ParamType.PerAntennaAirProtocol, new FieldWriter().u16(a.antennaId).u16(protocols.length).raw(Buffer.from(protocols)).build()));
    }
    parts.push(tlv(ParamType.GeneralDeviceCapabilities, w.build()));
  }
  return encodeFrame(MessageType.GET_READER_CAPABILITIES_RESPONSE, id, Buffer.concat(parts));
}

export function decodeReaderConfigResponse(body: Buffer): ReaderConfigResponse {
  const response: ReaderConfigResponse = { status: findStatus(walkParams(body), 'GET_READER_CONFIG_RESPONSE'), antennas: [], eventNotifications: [] };
  for (const p of walkParams(body)) {
    if (p.tv) continue;
    switch (p.type) {
      case ParamType.AntennaProperties:
        response.antennas.push(decodeAntennaProperties(p.value));
        break;
      case ParamType.ReaderEventNotificationSpec:
        response.eventNotifications = decodeEventNotificationSpec(p.value);
        break;
      case ParamType.ROReportSpec:
        response.reportSpec = decodeReportSpec(p.value);
        break;
      case ParamType.KeepaliveSpec:
        response.keepalive = decodeKeepaliveSpec(p.value);
        break;
      case ParamType.EventsAndReports:
        response.holdEventsAndReportsUponReconnect = decodeFlag(p.value, 'EventsAndReports');
        break;
    }
  }
  return response;
}

/** Any *_RESPONSE that carries only its status. */
export function encodeStatusResponse(type: number, id: number, status: LlrpStatus): Buffer {
  return encodeFrame(type, id, encodeStatusParam(status));
}

/** ERROR_MESSAGE: the reader's answer to a message it could not take (unsupported type or version). */
export function encodeErrorMessage(id: number, status: LlrpStatus): Buffer {
  return encodeFrame(MessageType.ERROR_MESSAGE, id, encodeStatusParam(status));
}

export function encodeKeepalive(id: number): Buffer {
  return encodeFrame(MessageType.KEEPALIVE, id);
}
