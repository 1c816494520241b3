import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEdgeConfig, loadEdgeConfig, type EdgeConfigInput } from '../src/index.ts';
import { configErrors as errorsOf } from './helpers.ts';

const base = (extra: Partial<EdgeConfigInput> = {}) => ({
  gatewayId: 'gw-01',
  dataDir: '/tmp/pw-edge',
  uplink: { url: 'mqtt://central.example:1883' },
  readers: [],
  ...extra,
});


describe('edge config: localBroker and metrics', () => {
  it('has no local broker and no metrics endpoint unless configured', () => {
    const config = checkEdgeConfig(base());
    expect(config.localBroker).toBeUndefined();
    expect(config.metrics).toBeUndefined();
  });

  it('fills the defaults: 127.0.0.1:1883, username = id, every sensor kind, a camera zone list of its zone', () => {
    const config = checkEdgeConfig(
      base({
        localBroker: {
          devices: [
            { id: 's1', kind: 'sensor', password: 'p1', zone: 'A1' },
            { id: 'c1', kind: 'camera', password: 'p2', zone: 'A2' },
            { id: 't1', kind: 'tracker', username: 'tracker-one', password: 'p3' },
          ],
        },
        metrics: { port: 9464 },
      }),
    );
    expect(config.localBroker).toEqual({
      host: '127.0.0.1',
      port: 1883,
      devices: [
        { id: 's1', kind: 'sensor', username: 's1', password: 'p1', zone: 'A1', sensorKinds: ['weight', 'temperature', 'humidity', 'door', 'shock', 'water'] },
        { id: 'c1', kind: 'camera', username: 'c1', password: 'p2', zone: 'A2', zones: ['A2'] },
        { id: 't1', kind: 'tracker', username: 'tracker-one', password: 'p3' },
      ],
    });
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(Object.isFrozen(config.localBroker?.devices[0])).toBe(true);
  });

  it('names every wrong device key', () => {
    const errors = errorsOf(
      base({
        localBroker: {
          port: 70000,
          devices: [
            { id: 's1', kind: 'sensor', password: 'p', sensorKinds: ['pressure'] },
            { id: 's1', kind: 'sensor', password: '', zone: 'A1', zones: ['A1'] },
            { id: 'c1', kind: 'camera', password: 'p', zone: 'A9', zones: ['A1', 'A2'] },
            { id: 't1', kind: 'tracker', password: 'p', zone: 'Y1', sensorKinds: ['door'] },
            { id: 'x1', kind: 'scale', username: 's1', password: 'p', colour: 'red' },
          ],
        } as unknown as EdgeConfigInput['localBroker'],
      }),
    );
    const paths = errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/localBroker/port',
        '/localBroker/devices/0/sensorKinds/0',
        '/localBroker/devices/1/password',
        '/localBroker/devices/4/kind',
        '/localBroker/devices/4/colour',
      ]),
    );
    // the schema errors come first; fixed, the semantic ones show
    const semantic = errorsOf(
      base({
        localBroker: {
          devices: [
            { id: 's1', kind: 'sensor', password: 'p' },
            { id: 's1', kind: 'sensor', password: 'p', zone: 'A1', zones: ['A1'] },
            { id: 'c1', kind: 'camera', password: 'p', zone: 'A9', zones: ['A1', 'A2'] },
            { id: 't1', kind: 'tracker', username: 's1', password: 'p', zone: 'Y1', sensorKinds: ['door'] },
          ],
        },
      }),
    );
    expect(semantic).toEqual([
      { path: '/localBroker/devices/0/zone', reason: 'required for a sensor' },
      { path: '/localBroker/devices/1/id', reason: 'duplicate device id "s1"' },
      { path: '/localBroker/devices/1/username', reason: 'username "s1" is used by another device' },
      { path: '/localBroker/devices/1/zones', reason: 'only for a camera' },
      { path: '/localBroker/devices/2/zone', reason: 'must be one of /localBroker/devices/2/zones' },
      { path: '/localBroker/devices/3/username', reason: 'username "s1" is used by another device' },
      { path: '/localBroker/devices/3/zone', reason: 'a tracker has no zone: its positions say where it is' },
      { path: '/localBroker/devices/3/sensorKinds', reason: 'only for a sensor' },
    ]);
  });

  it('refuses a local broker on the port of a central broker on the same machine, and metrics on the broker port', () => {
    const local = { devices: [] };
    const clash = errorsOf(base({ uplink: { url: 'mqtt://127.0.0.1:1883' }, localBroker: local }));
    expect(clash.map((e) => e.path)).toEqual(['/localBroker/port']);
    expect(clash[0]?.reason).toMatch(/listens on this machine and port: choose another/);
    expect(errorsOf(base({ uplink: { url: 'mqtt://localhost' }, localBroker: { ...local, host: '0.0.0.0' } })).map((e) => e.path)).toEqual(['/localBroker/port']);
    // another port, another machine, or an OS-chosen port are fine
    expect(() => checkEdgeConfig(base({ uplink: { url: 'mqtt://127.0.0.1:1883' }, localBroker: { ...local, port: 1884 } }))).not.toThrow();
    expect(() => checkEdgeConfig(base({ uplink: { url: 'mqtts://127.0.0.1' }, localBroker: local }))).not.toThrow();
    expect(() => checkEdgeConfig(base({ uplink: { url: 'mqtt://127.0.0.1:1883' }, localBroker: { ...local, port: 0 } }))).not.toThrow();
    expect(errorsOf(base({ localBroker: { ...local, port: 9000 }, metrics: { port: 9000 } }))).toEqual([{ path: '/metrics/port', reason: 'is also /localBroker/port (9000)' }]);
    expect(errorsOf(base({ metrics: { host: 'a b', port: -1 } })).map((e) => e.path).sort()).toEqual(['/metrics/host', '/metrics/port']);
  });

  it('loads the example file with its local broker and metrics blocks', () => {
    const config = loadEdgeConfig(join(import.meta.dirname, '..', 'examples', 'edge.example.json'));
    expect(config.localBroker?.devices.map((d) => d.kind).sort()).toEqual(['camera', 'sensor', 'sensor', 'tracker']);
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
  });
});
