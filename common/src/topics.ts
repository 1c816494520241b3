/** MQTT topic names of CONTRACT.md §1–2: one place builds them, one place parses them. */
import { isId } from './ids.ts';
import { SENSOR_KINDS, type SensorKind } from './wire.ts';

export const topics = {
  events: (gatewayId: string) => `pw/v1/gw/${gatewayId}/events`,
  status: (gatewayId: string) => `pw/v1/gw/${gatewayId}/status`,
  gatewayRoot: (gatewayId: string) => `pw/v1/gw/${gatewayId}/#`,
  price: (commodity: string) => `pw/v1/prices/${commodity}`,
  /** An FX rate (body: FxRateMessage), in the price family so that feeds may publish it. */
  fx: (base: string, quote: string) => `pw/v1/prices/fx/${base}/${quote}`,
  allEvents: 'pw/v1/gw/+/events',
  allStatus: 'pw/v1/gw/+/status',
  allPrices: 'pw/v1/prices/+',
  allFx: 'pw/v1/prices/fx/+/+',
  sensor: (sensorId: string, kind: SensorKind) => `sensors/${sensorId}/${kind}`,
  tracker: (trackerId: string) => `trackers/${trackerId}/position`,
  camera: (cameraId: string) => `cameras/${cameraId}/events`,
} as const;

/** What ingest subscribes to: gateways' events and statuses, prices and FX rates. */
export const INGEST_TOPICS: readonly string[] = [topics.allEvents, topics.allStatus, topics.allPrices, topics.allFx];

export type ParsedTopic =
  | { kind: 'gateway.events'; gatewayId: string }
  | { kind: 'gateway.status'; gatewayId: string }
  | { kind: 'price'; commodity: string }
  | { kind: 'fx'; base: string; quote: string }
  | { kind: 'sensor'; sensorId: string; sensorKind: SensorKind }
  | { kind: 'tracker'; trackerId: string }
  | { kind: 'camera'; cameraId: string };

const CURRENCY = /^[A-Z]{3}$/;

/** Returns what a topic addresses, or null for any topic outside the contract. */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p[0] === 'pw' && p[1] === 'v1') {
    if (p.length === 5 && p[2] === 'gw' && isId(p[3] ?? '')) {
      if (p[4] === 'events') return { kind: 'gateway.events', gatewayId: p[3] as string };
      if (p[4] === 'status') return { kind: 'gateway.status', gatewayId: p[3] as string };
    }
    if (p.length === 4 && p[2] === 'prices' && isId(p[3] ?? '')) return { kind: 'price', commodity: p[3] as string };
    if (p.length === 6 && p[2] === 'prices' && p[3] === 'fx' && CURRENCY.test(p[4] ?? '') && CURRENCY.test(p[5] ?? '')) {
      return { kind: 'fx', base: p[4] as string, quote: p[5] as string };
    }
    return null;
  }
  if (p.length !== 3 || !isId(p[1] ?? '')) return null;
  const id = p[1] as string;
  if (p[0] === 'sensors' && (SENSOR_KINDS as readonly string[]).includes(p[2] ?? '')) {
    return { kind: 'sensor', sensorId: id, sensorKind: p[2] as SensorKind };
  }
  if (p[0] === 'trackers' && p[2] === 'position') return { kind: 'tracker', trackerId: id };
  if (p[0] === 'cameras' && p[2] === 'events') return { kind: 'camera', cameraId: id };
  return null;
}

/** True when `topic` lies under `pw/v1/gw/{gatewayId}/`: the only place a gateway may publish. */
export function isGatewayTopic(topic: string, gatewayId: string): boolean {
  return topic.startsWith(`pw/v1/gw/${gatewayId}/`) && !topic.includes('+') && !topic.includes('#');
}
