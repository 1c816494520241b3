import { describe, expect, it } from 'vitest';
import { checkEdgeConfig, deviceRoute, toEvent, type DeviceConfig, type DeviceRoute, type Translation } from '../src/index.ts';

const NOW = Date.parse('2026-11-28T20:00:00.000Z');
const devices = checkEdgeConfig({
  gatewayId: 'gw',
  dataDir: '/tmp/x',
  uplink: { url: 'mqtt://central:1883' },
  readers: [],
  localBroker: {
    devices: [
      { id: 'env', kind: 'sensor', password: 'p', zone: 'A1', sensorKinds: ['door', 'water', 'weight'] },
      { id: 'cam', kind: 'camera', password: 'p', zone: 'A1' },
      { id: 'gps', kind: 'tracker', password: 'p' },
    ],
  },
}).localBroker?.devices as readonly DeviceConfig[];
const [env, cam, gps] = devices as [DeviceConfig, DeviceConfig, DeviceConfig];

function route(device: DeviceConfig, topic: string): DeviceRoute {
  const r = deviceRoute(device, topic);
  if ('reason' in r) throw new Error(r.detail);
  return r;
}
const translate = (device: DeviceConfig, topic: string, payload: unknown): Translation =>
  toEvent(route(device, topic), Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), NOW);

describe('device messages', () => {
  it('lets a device publish only to its own topics and kinds, naming what it may use', () => {
    expect(route(env, 'sensors/env/door')).toMatchObject({ kind: 'sensor', sensorKind: 'door' });
    expect(deviceRoute(env, 'sensors/env/temperature')).toEqual({
      ok: false,
      reason: 'foreign_topic',
      detail: 'sensor "env" may publish only to sensors/env/{door,water,weight}, not sensors/env/temperature',
    });
    expect(deviceRoute(cam, 'cameras/cam2/events')).toMatchObject({ reason: 'foreign_topic' });
    expect(deviceRoute(gps, 'trackers/gps/position/extra')).toMatchObject({ reason: 'foreign_topic' });
    expect(deviceRoute(gps, 'sensors/gps/weight')).toMatchObject({ reason: 'foreign_topic' });
  });

  it('accepts only 1 or 0 from a door or water sensor', () => {
    expect(translate(env, 'sensors/env/water', { value: 1 })).toMatchObject({ ok: true, event: { kind: 'water', value: 1, unit: 'wet', at: '2026-11-28T20:00:00.000Z' } });
    expect(translate(env, 'sensors/env/door', { value: 0.5 })).toEqual({ ok: false, reason: 'malformed', detail: '/value: a door reading is 1 or 0, not 0.5' });
    expect(translate(env, 'sensors/env/weight', { value: -3.5 })).toMatchObject({ ok: true, event: { value: -3.5, unit: 'kg' } });
  });

  it('names the field at fault', () => {
    const bad = translate(gps, 'trackers/gps/position', { lat: 91, lon: 0 });
    expect(bad.ok === false && bad.detail).toMatch(/^\/lat: /);
    const notJson = translate(cam, 'cameras/cam/events', '{');
    expect(notJson).toMatchObject({ ok: false, reason: 'malformed' });
    expect(notJson.ok === false && notJson.detail).toMatch(/not JSON/);
  });

  it("keeps a camera to its zones: the default zone when it names none, and only its own", () => {
    expect(translate(cam, 'cameras/cam/events', { kind: 'motion', confidence: 0 })).toMatchObject({ ok: true, event: { zone: 'A1' } });
    expect(translate(cam, 'cameras/cam/events', { kind: 'motion', confidence: 0.2, zone: 'A1' })).toMatchObject({ ok: true });
    expect(translate(cam, 'cameras/cam/events', { kind: 'damage', confidence: 0.9, zone: 'B1' })).toEqual({
      ok: false,
      reason: 'bad_zone',
      detail: '/zone: camera "cam" covers A1, not B1',
    });
  });
});
