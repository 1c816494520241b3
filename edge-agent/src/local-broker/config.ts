/**
 * The `localBroker` block of the edge config: the gateway's own MQTT broker for sensors, trackers
 * and cameras (CONTRACT §1). Schema, defaults, the checks a schema cannot express and the resolved
 * shape; config.ts plugs these in, as it does the LLRP settings.
 */
import { Type, type Static } from 'typebox';
import { Id, SENSOR_KINDS, type FieldError, type SensorKind } from '@pledgewatch/common';

export const LOCAL_BROKER_DEFAULTS = {
  host: '127.0.0.1',
  // The MQTT port, like the central broker's default: on a gateway the two are different machines.
  // On one machine (a demo, a laptop) set one of them to another port; check-config says so.
  port: 1883,
} as const;

export const DEVICE_KINDS = ['sensor', 'tracker', 'camera'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

const closed = { additionalProperties: false } as const;

const DeviceSchema = Type.Object(
  {
    id: Id,
    kind: Type.Union([Type.Literal(DEVICE_KINDS[0]), Type.Literal(DEVICE_KINDS[1]), Type.Literal(DEVICE_KINDS[2])]),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'MQTT username; default: the device id' })),
    password: Type.String({ minLength: 1, maxLength: 256, description: 'MQTT password of the device' }),
    zone: Type.Optional(Id),
    zones: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 64, description: 'cameras: zones an event may name' })),
    sensorKinds: Type.Optional(
      // Unsafe restates the static type, which a union over a mapped array would make `never`.
      Type.Array(Type.Unsafe<SensorKind>(Type.Union(SENSOR_KINDS.map((k) => Type.Literal(k)))), { minItems: 1, maxItems: SENSOR_KINDS.length, description: 'sensors: kinds it may publish; default all' }),
    ),
  },
  closed,
);

export const LocalBrokerSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, pattern: '^[^\\s]+$', default: LOCAL_BROKER_DEFAULTS.host, description: 'bind address' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: LOCAL_BROKER_DEFAULTS.port, description: '0 = any free port' })),
    devices: Type.Array(DeviceSchema, { maxItems: 1000 }),
  },
  closed,
);
export type LocalBrokerInput = Static<typeof LocalBrokerSchema>;

interface DeviceBase {
  readonly id: string;
  readonly username: string;
  readonly password: string;
}

export interface SensorDeviceConfig extends DeviceBase {
  readonly kind: 'sensor';
  readonly zone: string;
  readonly sensorKinds: readonly SensorKind[];
}

export interface TrackerDeviceConfig extends DeviceBase {
  readonly kind: 'tracker';
}

export interface CameraDeviceConfig extends DeviceBase {
  readonly kind: 'camera';
  /** Where an event that names no zone happened. */
  readonly zone: string;
  /** Zones an event may name; `zone` is always one of them. */
  readonly zones: readonly string[];
}

export type DeviceConfig = SensorDeviceConfig | TrackerDeviceConfig | CameraDeviceConfig;

export interface LocalBrokerConfig {
  readonly host: string;
  readonly port: number;
  readonly devices: readonly DeviceConfig[];
}

/**
 * Rules beyond the schema: unique ids and usernames, a zone for sensors and cameras (none for
 * trackers, whose positions carry their own place), per-kind keys only on their kind, and no port
 * clash with a central broker on the same machine or with the metrics endpoint.
 */
export function localBrokerErrors(local: LocalBrokerInput | undefined, others: { uplinkUrl: string; metricsPort?: number | undefined }): FieldError[] {
  if (local === undefined) return [];
  const errors: FieldError[] = [];
  const ids = new Set<string>();
  const usernames = new Set<string>();
  local.devices.forEach((d, i) => {
    const at = `/localBroker/devices/${i}`;
    if (ids.has(d.id)) errors.push({ path: `${at}/id`, reason: `duplicate device id "${d.id}"` });
    ids.add(d.id);
    const username = d.username ?? d.id;
    if (usernames.has(username)) errors.push({ path: `${at}/username`, reason: `username "${username}" is used by another device` });
    usernames.add(username);
    if (d.kind !== 'tracker' && d.zone === undefined) errors.push({ path: `${at}/zone`, reason: `required for a ${d.kind}` });
    if (d.kind === 'tracker' && d.zone !== undefined) errors.push({ path: `${at}/zone`, reason: 'a tracker has no zone: its positions say where it is' });
    if (d.kind !== 'camera' && d.zones !== undefined) errors.push({ path: `${at}/zones`, reason: 'only for a camera' });
    if (d.kind !== 'sensor' && d.sensorKinds !== undefined) errors.push({ path: `${at}/sensorKinds`, reason: 'only for a sensor' });
    if (d.kind === 'camera' && d.zone !== undefined && d.zones !== undefined && !d.zones.includes(d.zone)) {
      errors.push({ path: `${at}/zone`, reason: `must be one of ${at}/zones` });
    }
  });
  const port = local.port ?? LOCAL_BROKER_DEFAULTS.port;
  if (centralOnSamePort(others.uplinkUrl, local.host ?? LOCAL_BROKER_DEFAULTS.host, port)) {
    errors.push({ path: '/localBroker/port', reason: `the uplink broker ${others.uplinkUrl} listens on this machine and port: choose another (e.g. 1884)` });
  }
  if (port !== 0 && others.metricsPort === port) errors.push({ path: '/metrics/port', reason: `is also /localBroker/port (${port})` });
  return errors;
}

export function resolveLocalBroker(local: LocalBrokerInput): LocalBrokerConfig {
  return {
    host: local.host ?? LOCAL_BROKER_DEFAULTS.host,
    port: local.port ?? LOCAL_BROKER_DEFAULTS.port,
    devices: local.devices.map((d): DeviceConfig => {
      const base = { id: d.id, username: d.username ?? d.id, password: d.password };
      // localBrokerErrors has made sure sensors and cameras have a zone
      const zone = d.zone as string;
      if (d.kind === 'sensor') return { ...base, kind: 'sensor', zone, sensorKinds: [...(d.sensorKinds ?? SENSOR_KINDS)] };
      if (d.kind === 'camera') return { ...base, kind: 'camera', zone, zones: [...(d.zones ?? [zone])] };
      return { ...base, kind: 'tracker' };
    }),
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const ANY = new Set(['0.0.0.0', '::', '[::]']);

/** True when the uplink URL names this machine on the very port the local broker would take. */
function centralOnSamePort(uplinkUrl: string, host: string, port: number): boolean {
  let url: URL;
  try {
    url = new URL(uplinkUrl);
  } catch {
    return false;
  }
  const tls = /^(mqtts|ssl|wss):$/.test(url.protocol);
  const uplinkPort = url.port === '' ? (url.protocol.startsWith('ws') ? (tls ? 443 : 80) : tls ? 8883 : 1883) : Number(url.port);
  if (port === 0 || uplinkPort !== port) return false;
  const sameHost = url.hostname === host || (LOOPBACK.has(url.hostname) && (LOOPBACK.has(host) || ANY.has(host)));
  return sameHost;
}
