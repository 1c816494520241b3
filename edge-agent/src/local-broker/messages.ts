/**
 * What a device may publish on the local broker and what it becomes upstream (CONTRACT §1 → §2):
 * one handler per message kind, one dispatch table. Pure: no I/O, time passed in.
 */
import {
  CameraPayload,
  compileCheck,
  describeErrors,
  isoTime,
  parseJson,
  parseTopic,
  SensorPayload,
  SENSOR_UNITS,
  TrackerPayload,
  type Check,
  type SensorKind,
  type UplinkEvent,
} from '@pledgewatch/common';
import type { CameraDeviceConfig, DeviceConfig, SensorDeviceConfig, TrackerDeviceConfig } from './config.ts';

/** Why the local broker refused a login, publish or subscribe, or dropped a message: the label of pw_edge_local_rejected_total. */
export const REJECT_REASONS = [
  'no_credentials',
  'unknown_device',
  'bad_password',
  'foreign_topic',
  'subscribe',
  'malformed',
  'too_large',
  'bad_zone',
  'not_stored',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  ok: false;
  reason: RejectReason;
  detail: string;
}

/** A topic of the device's own, bound to the device: where its messages go. */
export type DeviceRoute =
  | { kind: 'sensor'; device: SensorDeviceConfig; sensorKind: SensorKind }
  | { kind: 'tracker'; device: TrackerDeviceConfig }
  | { kind: 'camera'; device: CameraDeviceConfig };

export type Translation = { ok: true; event: UplinkEvent } | Rejection;

/** Device payloads are a few hundred bytes; anything far larger is a fault, not a reading. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const reject = (reason: RejectReason, detail: string): Rejection => ({ ok: false, reason, detail });

/** The device's own CONTRACT §1 topic, or why it may not publish there. */
export function deviceRoute(device: DeviceConfig, topic: string): DeviceRoute | Rejection {
  const parsed = parseTopic(topic);
  if (parsed?.kind === 'sensor' && device.kind === 'sensor' && parsed.sensorId === device.id && device.sensorKinds.includes(parsed.sensorKind)) {
    return { kind: 'sensor', device, sensorKind: parsed.sensorKind };
  }
  if (parsed?.kind === 'tracker' && device.kind === 'tracker' && parsed.trackerId === device.id) return { kind: 'tracker', device };
  if (parsed?.kind === 'camera' && device.kind === 'camera' && parsed.cameraId === device.id) return { kind: 'camera', device };
  const own =
    device.kind === 'sensor'
      ? `sensors/${device.id}/{${device.sensorKinds.join(',')}}`
      : device.kind === 'tracker'
        ? `trackers/${device.id}/position`
        : `cameras/${device.id}/events`;
  return reject('foreign_topic', `${device.kind} "${device.id}" may publish only to ${own}, not ${topic}`);
}

type Handler<R extends DeviceRoute> = (route: R, value: unknown, now: number) => Translation;

const checkSensor = compileCheck(SensorPayload);
const checkTracker = compileCheck(TrackerPayload);
const checkCamera = compileCheck(CameraPayload);
const BINARY_KINDS: readonly SensorKind[] = ['door', 'water'];

const sensor: Handler<Extract<DeviceRoute, { kind: 'sensor' }>> = ({ device, sensorKind: kind }, value, now) => {
  const payload = validate(checkSensor, value);
  if (!payload.ok) return payload;
  const at = eventTime(payload.value.at, now);
  if (at === null) return reject('malformed', '/at: not a real time');
  const v = payload.value.value;
  if (BINARY_KINDS.includes(kind) && v !== 0 && v !== 1) return reject('malformed', `/value: a ${kind} reading is 1 or 0, not ${v}`);
  return { ok: true, event: { type: 'reading', at, sensorId: device.id, kind, zone: device.zone, value: v, unit: SENSOR_UNITS[kind] } };
};

const tracker: Handler<Extract<DeviceRoute, { kind: 'tracker' }>> = ({ device }, value, now) => {
  const payload = validate(checkTracker, value);
  if (!payload.ok) return payload;
  const at = eventTime(payload.value.at, now);
  if (at === null) return reject('malformed', '/at: not a real time');
  return { ok: true, event: { type: 'position', at, trackerId: device.id, lat: payload.value.lat, lon: payload.value.lon } };
};

const camera: Handler<Extract<DeviceRoute, { kind: 'camera' }>> = ({ device }, value, now) => {
  const payload = validate(checkCamera, value);
  if (!payload.ok) return payload;
  const { kind, confidence, snapshotUri } = payload.value;
  const at = eventTime(payload.value.at, now);
  if (at === null) return reject('malformed', '/at: not a real time');
  const zone = payload.value.zone ?? device.zone;
  // A camera may only speak for the zones it looks at: a misaimed or tampered camera must not
  // report damage to goods elsewhere.
  if (!device.zones.includes(zone)) return reject('bad_zone', `/zone: camera "${device.id}" covers ${device.zones.join(', ')}, not ${zone}`);
  const event: UplinkEvent = { type: 'camera', at, cameraId: device.id, zone, kind, confidence, ...(snapshotUri === undefined ? {} : { snapshotUri }) };
  return { ok: true, event };
};

/** Turns a payload on the device's own topic into its uplink event, or says what is wrong with it. */
export function toEvent(route: DeviceRoute, payload: Buffer, now: number): Translation {
  if (payload.length > MAX_PAYLOAD_BYTES) return reject('too_large', `payload of ${payload.length} bytes; at most ${MAX_PAYLOAD_BYTES}`);
  const json = parseJson(payload);
  if (!json.ok) return reject('malformed', describeErrors(json.errors));
  switch (route.kind) {
    case 'sensor':
      return sensor(route, json.value, now);
    case 'tracker':
      return tracker(route, json.value, now);
    case 'camera':
      return camera(route, json.value, now);
  }
}

function validate<T>(check: Check<T>, value: unknown): { ok: true; value: T } | Rejection {
  const result = check(value);
  return result.ok ? result : reject('malformed', describeErrors(result.errors));
}

/** The device's time in CONTRACT form (UTC, milliseconds), the agent's when it gave none; null when it is no real date. */
function eventTime(at: string | undefined, now: number): string | null {
  if (at === undefined) return isoTime(now);
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : isoTime(ms);
}
