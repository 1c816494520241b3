/** CONTRACT.md §1–2 as TypeBox schemas: what devices, gateways and price feeds put on MQTT. */
import { Type, type Static } from 'typebox';
import { Epc, Id, Time } from './ids.ts';

export const SENSOR_KINDS = ['weight', 'temperature', 'humidity', 'door', 'shock', 'water'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];
export const SENSOR_UNITS: Record<SensorKind, string> = {
  weight: 'kg',
  temperature: 'C',
  humidity: '%RH',
  door: 'open',
  shock: 'g',
  water: 'wet',
};
export const CAMERA_KINDS = ['damage', 'intrusion', 'obstruction', 'tamper', 'motion'] as const;
export type CameraKind = (typeof CAMERA_KINDS)[number];

// Unsafe only restates the static type: a union over a mapped array is `never` to Static<>, which
// made the `kind` of a reading or camera event unassignable. The schema itself is unchanged.
const literals = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));

// ---- §1 local MQTT payloads (devices → edge agent) ----
export const SensorPayload = Type.Object({ value: Type.Number(), at: Type.Optional(Time) });
export const TrackerPayload = Type.Object({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  at: Type.Optional(Time),
});
export const CameraPayload = Type.Object({
  kind: literals(CAMERA_KINDS),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  zone: Type.Optional(Id),
  snapshotUri: Type.Optional(Type.String({ maxLength: 2048 })),
  at: Type.Optional(Time),
});

// ---- §2 uplink events ----
export const TagArrived = Type.Object({
  type: Type.Literal('tag.arrived'),
  at: Time,
  epc: Epc,
  zone: Id,
  readerId: Id,
  antenna: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  rssi: Type.Optional(Type.Number()),
  // Loose on purpose: a malformed optional URI must not make ingest drop the arrival it rides on.
  epcUri: Type.Optional(Type.String({ pattern: '^urn:epc:[!-~]+$', maxLength: 256, description: 'EPC tag URI, when the gateway decoded the EPC' })),
});
export const TagDeparted = Type.Object({
  type: Type.Literal('tag.departed'),
  at: Time,
  epc: Epc,
  zone: Id,
  readerId: Id,
  lastSeenAt: Time,
});
export const TagMoved = Type.Object({
  type: Type.Literal('tag.moved'),
  at: Time,
  epc: Epc,
  fromZone: Id,
  zone: Id,
  readerId: Id,
});
export const InventorySnapshot = Type.Object({
  type: Type.Literal('inventory.snapshot'),
  at: Time,
  zone: Id,
  readerId: Id,
  epcs: Type.Array(Epc, { maxItems: 100_000 }),
});
export const Reading = Type.Object({
  type: Type.Literal('reading'),
  at: Time,
  sensorId: Id,
  kind: literals(SENSOR_KINDS),
  zone: Id,
  value: Type.Number(),
  unit: Type.String({ maxLength: 16 }),
});
export const Position = Type.Object({
  type: Type.Literal('position'),
  at: Time,
  trackerId: Id,
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
});
export const CameraEvent = Type.Object({
  type: Type.Literal('camera'),
  at: Time,
  cameraId: Id,
  zone: Id,
  kind: literals(CAMERA_KINDS),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  snapshotUri: Type.Optional(Type.String({ maxLength: 2048 })),
});
export const ReaderStatus = Type.Object({
  type: Type.Literal('reader.status'),
  at: Time,
  readerId: Id,
  connected: Type.Boolean(),
  error: Type.Optional(Type.String({ maxLength: 1024 })),
});

/** One schema per event type: ingest validates each event on its own so one bad event does not sink a batch. */
export const EVENT_SCHEMAS = {
  'tag.arrived': TagArrived,
  'tag.departed': TagDeparted,
  'tag.moved': TagMoved,
  'inventory.snapshot': InventorySnapshot,
  reading: Reading,
  position: Position,
  camera: CameraEvent,
  'reader.status': ReaderStatus,
} as const;
export type EventType = keyof typeof EVENT_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

export type TagArrivedEvent = Static<typeof TagArrived>;
export type TagDepartedEvent = Static<typeof TagDeparted>;
export type TagMovedEvent = Static<typeof TagMoved>;
export type InventorySnapshotEvent = Static<typeof InventorySnapshot>;
export type ReadingEvent = Static<typeof Reading>;
export type PositionEvent = Static<typeof Position>;
export type CameraEventT = Static<typeof CameraEvent>;
export type ReaderStatusEvent = Static<typeof ReaderStatus>;
export type UplinkEvent =
  | TagArrivedEvent
  | TagDepartedEvent
  | TagMovedEvent
  | InventorySnapshotEvent
  | ReadingEvent
  | PositionEvent
  | CameraEventT
  | ReaderStatusEvent;
export type EventOf<T extends EventType> = Extract<UplinkEvent, { type: T }>;

export const BatchEnvelope = Type.Object({
  v: Type.Literal(1),
  gatewayId: Id,
  seq: Type.Integer({ minimum: 0 }),
  sentAt: Time,
  events: Type.Array(Type.Unknown(), { maxItems: 10_000 }),
});
export interface UplinkBatch {
  v: 1;
  gatewayId: string;
  seq: number;
  sentAt: string;
  events: UplinkEvent[];
}

export const GatewayStatus = Type.Object({
  v: Type.Literal(1),
  gatewayId: Id,
  online: Type.Boolean(),
  at: Time,
  agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
  readers: Type.Optional(
    Type.Array(
      Type.Object({
        readerId: Id,
        connected: Type.Boolean(),
        lastReadAt: Type.Union([Time, Type.Null()]),
      }),
    ),
  ),
  outbox: Type.Optional(Type.Object({ depth: Type.Integer({ minimum: 0 }), dropped: Type.Integer({ minimum: 0 }) })),
});
export type GatewayStatusMessage = Static<typeof GatewayStatus>;

export const Price = Type.Object({
  commodity: Id,
  price: Type.Number({ exclusiveMinimum: 0 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' }),
  unit: Type.String({ minLength: 1, maxLength: 16 }),
  at: Time,
  source: Type.String({ minLength: 1, maxLength: 128 }),
});
export type PriceMessage = Static<typeof Price>;
