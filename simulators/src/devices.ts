/**
 * Simulated sensors, trackers and cameras publishing to an edge agent's local broker (CONTRACT §1),
 * each logged in as the device it plays. They publish on a schedule (demos) or on command (tests,
 * scenarios: a door opens, water on the floor, a camera sees damage).
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { sendWithoutDelay, systemClock, topics, type CameraKind, type Clock, type SensorKind, type Timer } from '@pledgewatch/common';
import type { DeviceKind } from '@pledgewatch/edge-agent';

/** A device account as in the agent's `localBroker.devices` (a DeviceConfig fits). */
export interface SimulatedDevice {
  id: string;
  kind: DeviceKind;
  password: string;
  /** default: the id */
  username?: string;
  /** sensors: the kinds it measures (for the demo plans); default temperature and humidity */
  sensorKinds?: readonly SensorKind[];
}

/** One message of a device, `at` omitted to let the agent stamp it. */
export type DeviceMessage =
  | { type: 'reading'; sensorKind: SensorKind; value: number; at?: string }
  | { type: 'position'; lat: number; lon: number; at?: string }
  | { type: 'camera'; kind: CameraKind; confidence: number; zone?: string; snapshotUri?: string; at?: string };

/** What one device publishes, and how often: `next` makes the n-th message (n from 0). */
export interface DevicePlan {
  deviceId: string;
  everyMs: number;
  next: (n: number, random: () => number) => DeviceMessage;
}

export interface DevicePublisherOptions {
  /** The local broker, e.g. the agent's `localBrokerUrl`. */
  url: string;
  devices: readonly SimulatedDevice[];
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  /** QoS of every publish (default 1: the agent acknowledges once the event is stored). */
  qos?: 0 | 1;
}

export interface DevicePublisher {
  /** Publishes one message as the device, on its own topic; resolves when the broker has it. */
  publish(deviceId: string, message: DeviceMessage): Promise<void>;
  /** Publishes any bytes on any topic as the device: for testing how bad input is refused. */
  publishRaw(deviceId: string, topic: string, payload: string | Buffer): Promise<void>;
  /** Publishes by a plan until close(); a failed publish is logged, the plan goes on. */
  schedule(plan: DevicePlan): void;
  /** Messages the broker has acknowledged so far. */
  readonly published: number;
  close(): Promise<void>;
}

/** The topic a message of this device goes to. */
export function deviceTopic(device: Pick<SimulatedDevice, 'id' | 'kind'>, message: DeviceMessage): string {
  const expected = { sensor: 'reading', tracker: 'position', camera: 'camera' } as const;
  if (expected[device.kind] !== message.type) throw new Error(`${device.kind} "${device.id}" does not publish ${message.type} messages`);
  if (message.type === 'reading') return topics.sensor(device.id, message.sensorKind);
  return message.type === 'position' ? topics.tracker(device.id) : topics.camera(device.id);
}

/** The CONTRACT §1 payload of a message. */
export function devicePayload(message: DeviceMessage): string {
  const at = message.at === undefined ? {} : { at: message.at };
  switch (message.type) {
    case 'reading':
      return JSON.stringify({ value: message.value, ...at });
    case 'position':
      return JSON.stringify({ lat: message.lat, lon: message.lon, ...at });
    case 'camera': {
      const { type: _type, ...payload } = message;
      return JSON.stringify(payload);
    }
  }
}

/** Connects every device (rejects naming the first that cannot log in) and returns the publisher. */
export async function startDevicePublisher(options: DevicePublisherOptions): Promise<DevicePublisher> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const qos = options.qos ?? 1;
  const log = options.logger.child({ component: 'device-simulator' });
  const clients = new Map<string, { device: SimulatedDevice; client: MqttClient }>();
  const timers: Timer[] = [];
  let published = 0;

  const close = async () => {
    for (const t of timers.splice(0)) t.cancel();
    await Promise.all([...clients.values()].map(({ client }) => client.endAsync(true)));
    clients.clear();
  };
  try {
    for (const device of options.devices) {
      const client = await mqtt
        .connectAsync(options.url, {
          username: device.username ?? device.id,
          password: device.password,
          clientId: `pw-sim-${device.kind}-${device.id}`,
          reconnectPeriod: 1000,
        })
        .catch((err: unknown) => {
          throw new Error(`device "${device.id}" cannot connect to ${options.url}: ${(err as Error).message}`);
        });
      sendWithoutDelay(client);
      // A dropped connection retries by itself; say so once per error, not every second.
      client.on('error', (err) => log.debug({ deviceId: device.id, err: err.message }, 'device connection error'));
      clients.set(device.id, { device, client });
    }
  } catch (err) {
    await close();
    throw err;
  }

  const clientOf = (deviceId: string) => {
    const entry = clients.get(deviceId);
    if (entry === undefined) throw new Error(`no simulated device "${deviceId}"`);
    return entry;
  };
  const publishRaw = async (deviceId: string, topic: string, payload: string | Buffer) => {
    await clientOf(deviceId).client.publishAsync(topic, payload, { qos });
    published++;
  };
  const publish = async (deviceId: string, message: DeviceMessage) => {
    await publishRaw(deviceId, deviceTopic(clientOf(deviceId).device, message), devicePayload(message));
  };

  return {
    publish,
    publishRaw,
    schedule(plan) {
      clientOf(plan.deviceId);
      let n = 0;
      timers.push(
        clock.setInterval(() => {
          const message = plan.next(n++, random);
          publish(plan.deviceId, message).catch((err: unknown) => log.warn({ deviceId: plan.deviceId, err: (err as Error).message }, 'scheduled publish failed'));
        }, plan.everyMs),
      );
    },
    get published() {
      return published;
    },
    close,
  };
}

/** A value wandering around `base` by at most `noise` either way. */
export function noisyReading(sensorKind: SensorKind, base: number, noise: number): DevicePlan['next'] {
  return (_n, random) => ({ type: 'reading', sensorKind, value: Math.round((base + noise * (2 * random() - 1)) * 100) / 100 });
}

/** Values in turn, over and over: a door opening and closing, a floor getting wet and dry. */
export function cyclingReading(sensorKind: SensorKind, values: readonly number[]): DevicePlan['next'] {
  if (values.length === 0) throw new Error('cyclingReading needs at least one value');
  return (n) => ({ type: 'reading', sensorKind, value: values[n % values.length] ?? 0 });
}

/** A tracker drifting from a start point by up to `stepDeg` per message. */
export function wanderingTracker(lat: number, lon: number, stepDeg = 0.0005): DevicePlan['next'] {
  let at = { lat, lon };
  const clamp = (v: number, limit: number) => Math.max(-limit, Math.min(limit, v));
  return (_n, random) => {
    at = { lat: clamp(at.lat + stepDeg * (2 * random() - 1), 90), lon: clamp(at.lon + stepDeg * (2 * random() - 1), 180) };
    return { type: 'position', lat: Math.round(at.lat * 1e6) / 1e6, lon: Math.round(at.lon * 1e6) / 1e6 };
  };
}

/** Camera analytics of one kind, with a confidence drawn from [min, max]. */
export function cameraEvents(kind: CameraKind, min = 0.5, max = 0.95): DevicePlan['next'] {
  return (_n, random) => ({ type: 'camera', kind, confidence: Math.round((min + (max - min) * random()) * 1000) / 1000 });
}

const SENSOR_BASELINES: Record<SensorKind, { next: DevicePlan['next']; everyMs: number }> = {
  temperature: { next: noisyReading('temperature', 18, 1), everyMs: 5000 },
  humidity: { next: noisyReading('humidity', 45, 3), everyMs: 5000 },
  weight: { next: noisyReading('weight', 25_000, 50), everyMs: 5000 },
  door: { next: cyclingReading('door', [0]), everyMs: 30_000 },
  water: { next: cyclingReading('water', [0]), everyMs: 30_000 },
  shock: { next: noisyReading('shock', 0.05, 0.04), everyMs: 10_000 },
};

/** A quiet, healthy warehouse: every device reporting normal values at a calm pace. */
export function demoPlans(devices: readonly SimulatedDevice[], origin = { lat: 31.2304, lon: 121.4737 }): DevicePlan[] {
  return devices.flatMap((d): DevicePlan[] => {
    if (d.kind === 'tracker') return [{ deviceId: d.id, everyMs: 10_000, next: wanderingTracker(origin.lat, origin.lon) }];
    if (d.kind === 'camera') return [{ deviceId: d.id, everyMs: 60_000, next: cameraEvents('motion', 0.3, 0.7) }];
    return (d.sensorKinds ?? ['temperature', 'humidity']).map((kind) => ({ deviceId: d.id, ...SENSOR_BASELINES[kind] }));
  });
}
