import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEdgeConfig, EDGE_DEFAULTS, loadEdgeConfig } from '../src/index.ts';
import { tempDir, configErrors as errorsOf } from './helpers.ts';

const examplePath = join(import.meta.dirname, '..', 'examples', 'edge.example.json');

const minimal = () => ({
  gatewayId: 'gw-01',
  dataDir: '/tmp/pw-edge',
  uplink: { url: 'mqtt://127.0.0.1:1883' },
  readers: [{ id: 'r1', driver: 'simulated', antennas: { '1': 'A1' } }],
});


describe('edge config', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('loads the example file', () => {
    const config = loadEdgeConfig(examplePath);
    expect(config.gatewayId).toBe('gw-shanghai-1');
    expect(config.uplink.clientId).toBe('pw-edge-gw-shanghai-1');
    expect(config.readers[0]?.antennas).toEqual({ '1': 'A1', '2': 'A1', '3': 'A2' });
    const reader = config.readers[0];
    expect(reader?.driver === 'simulated' && reader.simulated.tags['3']).toEqual(['3034257BF7194E4000001A87']);
  });

  it('fills every default and freezes the result deeply', () => {
    const config = checkEdgeConfig(minimal());
    expect(config.heartbeatIntervalS).toBe(EDGE_DEFAULTS.heartbeatIntervalS);
    expect(config.batch).toEqual({ maxEvents: 200, maxDelayMs: 250 });
    expect(config.presence).toEqual({ absenceTimeoutS: 60, snapshotIntervalS: 300 });
    const reader = config.readers[0];
    expect(reader?.driver === 'simulated' && reader.simulated).toEqual({ roundMs: 1000, missProbability: 0.1, tags: {} });
    expect(config.uplink).toEqual({ url: 'mqtt://127.0.0.1:1883', username: 'gw-01', clientId: 'pw-edge-gw-01' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.readers[0]?.antennas)).toBe(true);
    expect(Object.isFrozen(config.uplink)).toBe(true);
  });

  it('names unknown keys by path, at every depth', () => {
    const value = { ...minimal(), extra: 1, uplink: { url: 'mqtt://h:1883', user: 'x' } };
    value.readers[0] = { ...value.readers[0], colour: 'red' } as (typeof value.readers)[0];
    expect(errorsOf(value)).toEqual(
      expect.arrayContaining([
        { path: '/extra', reason: 'unknown key' },
        { path: '/uplink/user', reason: 'unknown key' },
        { path: '/readers/0/colour', reason: 'unknown key' },
      ]),
    );
  });

  it('names bad values and missing keys by path with the reason', () => {
    const errors = errorsOf({
      gatewayId: 'gw 01',
      uplink: { url: 'http://broker', clientId: 'has space' },
      heartbeatIntervalS: 0,
      presence: { absenceTimeoutS: -1, snapshotIntervalS: 'often' },
      batch: { maxEvents: 0 },
      readers: [{ id: 'r1', driver: 'rfid-9000', antennas: { '1': 'A1', zero: 'A2' }, simulated: { missProbability: 2 } }],
    });
    const paths = errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/gatewayId',
        '/dataDir',
        '/uplink/url',
        '/uplink/clientId',
        '/heartbeatIntervalS',
        '/presence/absenceTimeoutS',
        '/presence/snapshotIntervalS',
        '/batch/maxEvents',
        '/readers/0/driver',
        '/readers/0/antennas/zero',
        '/readers/0/simulated/missProbability',
      ]),
    );
    // more than TypeBox's default cap of 8 errors: every mistake is listed at once
    expect(errors).toHaveLength(11);
    expect(errors.find((e) => e.path === '/dataDir')?.reason).toBe('required');
    expect(errors.find((e) => e.path === '/readers/0/driver')?.reason).toBe('must be "simulated" or must be "llrp" or must be "serial"');
    expect(errors.find((e) => e.path === '/readers/0/antennas/zero')?.reason).toBe('key must be an antenna number 1..65535');
    expect(errors.find((e) => e.path === '/heartbeatIntervalS')?.reason).toMatch(/> 0/);
  });

  it('checks what the schema cannot: duplicate readers, tags on unknown antennas, rounds longer than the absence timeout', () => {
    const value = {
      ...minimal(),
      presence: { absenceTimeoutS: 1 },
      readers: [
        { id: 'r1', driver: 'simulated', antennas: { '1': 'A1' }, simulated: { roundMs: 100, tags: { '2': ['3034257BF7194E4000001A85'] } } },
        { id: 'r1', driver: 'simulated', antennas: { '70000': 'A1' }, simulated: { roundMs: 1000 } },
      ],
    };
    expect(errorsOf(value)).toEqual([
      { path: '/readers/0/simulated/tags/2', reason: 'antenna 2 is not in /readers/0/antennas' },
      { path: '/readers/1/id', reason: 'duplicate reader id "r1"' },
      { path: '/readers/1/antennas/70000', reason: 'antenna must be 1..65535' },
      { path: '/readers/1/simulated/roundMs', reason: 'must be shorter than presence.absenceTimeoutS (1000 ms)' },
    ]);
  });

  it('says which file is bad, and why, when it cannot be read or parsed', () => {
    const dir = tempDir();
    dirs.push(dir);
    const bad = join(dir.path, 'edge.json');
    writeFileSync(bad, '{ "gatewayId": ');
    expect(() => loadEdgeConfig(bad)).toThrow(/edge\.json.*not JSON/);
    expect(() => loadEdgeConfig(join(dir.path, 'missing.json'))).toThrow(/cannot read .*missing\.json/);
    writeFileSync(bad, JSON.stringify({ ...minimal(), extra: true }));
    expect(() => loadEdgeConfig(bad)).toThrow(/edge\.json: \/extra: unknown key/);
  });
});
