/** READER_EVENT_NOTIFICATION: what the reader tells unprompted (connection, antennas, specs, faults). */
import { CONNECTION_ATTEMPT_STATUS, MessageType, ParamType, TvType } from './constants.ts';
import { encodeFrame, LlrpDecodeError } from './frames.ts';
import { FieldReader, FieldWriter, tlv, tv, walkParams } from './params.ts';

export type ReaderEvent =
  | { kind: 'connectionAttempt'; status: number }
  | { kind: 'connectionClose' }
  | { kind: 'antenna'; antennaId: number; connected: boolean }
  | { kind: 'readerException'; message: string; rospecId?: number; antennaId?: number }
  /** eventType 0 start, 1 end, 2 preempted */
  | { kind: 'rospec'; eventType: number; rospecId: number; preemptingRospecId: number }
  /** eventType 0 = End_Of_AISpec: the end of one inventory round */
  | { kind: 'aispec'; eventType: number; rospecId: number; specIndex: number }
  | { kind: 'hopping'; hopTableId: number; nextChannelIndex: number }
  | { kind: 'gpi'; port: number; event: boolean }
  | { kind: 'bufferWarning'; fullnessPercent: number }
  | { kind: 'bufferOverflow' }
  | { kind: 'rfSurvey'; eventType: number; rospecId: number; specIndex: number }
  | { kind: 'specLoop'; rospecId: number; loopCount: number };

export interface ReaderEventNotification {
  /** microseconds: since the Unix epoch when `clock` is utc, since the reader booted when uptime */
  timestampUs: number;
  clock: 'utc' | 'uptime';
  events: ReaderEvent[];
}

export const ROSPEC_EVENTS = ['Start_Of_ROSpec', 'End_Of_ROSpec', 'Preemption_Of_ROSpec'] as const;

export function connectionAttemptStatusName(status: number): string {
  return CONNECTION_ATTEMPT_STATUS[status] ?? `Status_${status}`;
}

export function decodeReaderEventNotification(body: Buffer): ReaderEventNotification {
  for (const p of walkParams(body)) {
    if (p.type === ParamType.ReaderEventNotificationData && !p.tv) return decodeNotificationData(p.value);
  }
  throw new LlrpDecodeError('READER_EVENT_NOTIFICATION has no ReaderEventNotificationData');
}

function decodeNotificationData(value: Buffer): ReaderEventNotification {
  const out: ReaderEventNotification = { timestampUs: 0, clock: 'utc', events: [] };
  for (const p of walkParams(value)) {
    if (p.tv) continue;
    const r = new FieldReader(p.value, `event parameter ${p.type}`);
    switch (p.type) {
      case ParamType.UTCTimestamp:
      case ParamType.Uptime:
        out.timestampUs = r.u64();
        out.clock = p.type === ParamType.UTCTimestamp ? 'utc' : 'uptime';
        break;
      case ParamType.ConnectionAttemptEvent:
        out.events.push({ kind: 'connectionAttempt', status: r.u16() });
        break;
      case ParamType.ConnectionCloseEvent:
        out.events.push({ kind: 'connectionClose' });
        break;
      case ParamType.AntennaEvent: {
        const connected = r.u8() === 1;
        out.events.push({ kind: 'antenna', connected, antennaId: r.u16() });
        break;
      }
      case ParamType.ReaderExceptionEvent:
        out.events.push(decodeException(r));
        break;
      case ParamType.ROSpecEvent:
        out.events.push({ kind: 'rospec', eventType: r.u8(), rospecId: r.u32(), preemptingRospecId: r.u32() });
        break;
      case ParamType.AISpecEvent:
        out.events.push({ kind: 'aispec', eventType: r.u8(), rospecId: r.u32(), specIndex: r.u16() });
        break;
      case ParamType.HoppingEvent:
        out.events.push({ kind: 'hopping', hopTableId: r.u16(), nextChannelIndex: r.u16() });
        break;
      case ParamType.GPIEvent:
        out.events.push({ kind: 'gpi', port: r.u16(), event: (r.u8() & 0x80) !== 0 });
        break;
      case ParamType.ReportBufferLevelWarningEvent:
        out.events.push({ kind: 'bufferWarning', fullnessPercent: r.u8() });
        break;
      case ParamType.ReportBufferOverflowErrorEvent:
        out.events.push({ kind: 'bufferOverflow' });
        break;
      case ParamType.RFSurveyEvent:
        out.events.push({ kind: 'rfSurvey', eventType: r.u8(), rospecId: r.u32(), specIndex: r.u16() });
        break;
      case ParamType.SpecLoopEvent:
        out.events.push({ kind: 'specLoop', rospecId: r.u32(), loopCount: r.u32() });
        break;
    }
  }
  return out;
}

function decodeException(r: FieldReader): ReaderEvent {
  const event: Extract<ReaderEvent, { kind: 'readerException' }> = { kind: 'readerException', message: r.utf8() };
  for (const p of r.params()) {
    if (p.tv && p.type === TvType.ROSpecID) event.rospecId = p.value.readUInt32BE(0);
    if (p.tv && p.type === TvType.AntennaID) event.antennaId = p.value.readUInt16BE(0);
  }
  return event;
}

export function encodeReaderEventNotification(id: number, notification: ReaderEventNotification): Buffer {
  const stamp = new FieldWriter().u64(notification.timestampUs).build();
  const parts = [tlv(notification.clock === 'utc' ? ParamType.UTCTimestamp : ParamType.Uptime, stamp), ...notification.events.map(encodeEvent)];
  return encodeFrame(MessageType.READER_EVENT_NOTIFICATION, id, tlv(ParamType.ReaderEventNotificationData, ...parts));
}

function encodeEvent(e: ReaderEvent): Buffer {
  const w = new FieldWriter();
  switch (e.kind) {
    case 'connectionAttempt':
      return tlv(ParamType.ConnectionAttemptEvent, w.u16(e.status).build());
    case 'connectionClose':
      return tlv(ParamType.ConnectionCloseEvent);
    case 'antenna':
      return tlv(ParamType.AntennaEvent, w.u8(e.connected ? 1 : 0).u16(e.antennaId).build());
    case 'readerException':
      w.utf8(e.message);
      if (e.rospecId !== undefined) w.raw(tv(TvType.ROSpecID, new FieldWriter().u32(e.rospecId).build()));
      if (e.antennaId !== undefined) w.raw(tv(TvType.AntennaID, new FieldWriter().u16(e.antennaId).build()));
      return tlv(ParamType.ReaderExceptionEvent, w.build());
    case 'rospec':
      return tlv(ParamType.ROSpecEvent, w.u8(e.eventType).u32(e.rospecId).u32(e.preemptingRospecId).build());
    case 'aispec':
      return tlv(ParamType.AISpecEvent, w.u8(e.eventType).u32(e.rospecId).u16(e.specIndex).build());
    case 'hopping':
      return tlv(ParamType.HoppingEvent, w.u16(e.hopTableId).u16(e.nextChannelIndex).build());
    case 'gpi':
      return tlv(ParamType.GPIEvent, w.u16(e.port).u8(e.event ? 0x80 : 0).build());
    case 'bufferWarning':
      return tlv(ParamType.ReportBufferLevelWarningEvent, w.u8(e.fullnessPercent).build());
    case 'bufferOverflow':
      return tlv(ParamType.ReportBufferOverflowErrorEvent);
    case 'rfSurvey':
      return tlv(ParamType.RFSurveyEvent, w.u8(e.eventType).u32(e.rospecId).u16(e.specIndex).build());
    case 'specLoop':
      return tlv(ParamType.SpecLoopEvent, w.u32(e.rospecId).u32(e.loopCount).build());
  }
}
