/**
 * The device simulator against a real edge agent's local broker (port 0). The agent has no central
 * broker to reach, so every event it takes waits in its outbox in edge.db, where the test reads it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FakeClock, type UplinkEvent } from '@pledgewatch/common';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { checkEdgeConfig, createEdgeAgent, openEdgeDb, type EdgeAgent } from '@pledgewatch/edge-agent';
import { cyclingReading, demoPlans, devicePayload, deviceTopic, noisyReading, startDevicePublisher, wanderingTracker, type DevicePublisher, type SimulatedDevice } from '../src/index.ts';

const logger = pino({ level: 'silent' });
const DEVICES: SimulatedDevice[] = [
  { id: 'env-a1', kind: 'sensor', password: 'env-pass', sensorKinds: ['temperature', 'door', 'water', 'shock'] },
  { id: 'cam-a', kind: 'camera', username: 'cam-user', password: 'cam-pass' },
  { id: 'truck-7', kind: 'tracker', password: 'truck-pass' },
];

describe('device simulator', () => {
  let dir: TempDir | undefined;
  let agent: EdgeAgent | undefined;
  let sim: DevicePublisher | undefined;

  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await agent?.stop();
    dir?.remove();
  });

  const startAgent = async () => {
    const data = tempDir('pw-sim-devices-');
    dir = data;
    const config = checkEdgeConfig({
      gatewayId: 'gw-sim',
      dataDir: data.path,
      uplink: { url: 'mqtt://127.0.0.1:1' }, // nowhere: the outbox keeps every event
      batch: { maxEvents: 1, maxDelayMs: 0 },
      readers: [],
      localBroker: {
        port: 0,
        devices: [
          { id: 'env-a1', kind: 'sensor', password: 'env-pass', zone: 'A1', sensorKinds: ['temperature', 'door', 'water', 'shock'] },
          { id: 'cam-a', kind: 'camera', username: 'cam-user', password: 'cam-pass', zone: 'A1' },
          { id: 'truck-7', kind: 'tracker', password: 'truck-pass' },
        ],
      },
    });
    const started = createEdgeAgent({ config, logger, stopTimeoutMs: 500 });
    agent = started;
    await started.start();
    return started.localBrokerUrl ?? '';
  };

  /** The events stored in the agent's outbox, oldest first (read after it stopped). */
  const stored = async (): Promise<UplinkEvent[]> => {
    if (agent === undefined || dir === undefined) throw new Error('no agent started');
    await agent.stop();
    const db = openEdgeDb(dir.path);
    try {
      const rows = db.prepare<[], { events: string }>('SELECT events FROM outbox ORDER BY seq').all();
      return rows.flatMap((r) => JSON.parse(r.events) as UplinkEvent[]);
    } finally {
      db.close();
    }
  };

  it('publishes readings, door/water/shock events, positions and camera events on command, as the devices', async () => {
    sim = await startDevicePublisher({ url: await startAgent(), devices: DEVICES, logger });
    await sim.publish('env-a1', { type: 'reading', sensorKind: 'temperature', value: 19.5 });
    await sim.publish('env-a1', { type: 'reading', sensorKind: 'door', value: 1, at: '2026-11-28T20:00:00.000Z' });
    await sim.publish('env-a1', { type: 'reading', sensorKind: 'water', value: 1 });
    await sim.publish('env-a1', { type: 'reading', sensorKind: 'shock', value: 3.2 });
    await sim.publish('truck-7', { type: 'position', lat: 31.2, lon: 121.5 });
    await sim.publish('cam-a', { type: 'camera', kind: 'damage', confidence: 0.93, snapshotUri: 'file:///s/1.jpg' });
    expect(sim.published).toBe(6);
    await expect(sim.publish('cam-a', { type: 'position', lat: 0, lon: 0 })).rejects.toThrow('camera "cam-a" does not publish position messages');

    const events = await stored();
    expect(events.map((e) => e.type)).toEqual(['reading', 'reading', 'reading', 'reading', 'position', 'camera']);
    expect(events[1]).toEqual({ type: 'reading', at: '2026-11-28T20:00:00.000Z', sensorId: 'env-a1', kind: 'door', zone: 'A1', value: 1, unit: 'open' });
    expect(events[5]).toMatchObject({ type: 'camera', cameraId: 'cam-a', zone: 'A1', kind: 'damage', confidence: 0.93, snapshotUri: 'file:///s/1.jpg' });
  });

  it('publishes on a schedule driven by its clock', async () => {
    const clock = new FakeClock();
    sim = await startDevicePublisher({ url: await startAgent(), devices: DEVICES, logger, clock, random: () => 0.5 });
    sim.schedule({ deviceId: 'env-a1', everyMs: 1000, next: noisyReading('temperature', 18, 1) });
    sim.schedule({ deviceId: 'env-a1', everyMs: 2000, next: cyclingReading('door', [1, 0]) });
    sim.schedule({ deviceId: 'truck-7', everyMs: 5000, next: wanderingTracker(31.23, 121.47) });
    clock.advance(10_000);
    const current = sim;
    await waitFor('every scheduled message acknowledged', () => current.published === 10 + 5 + 2);
    const events = await stored();
    const doors = events.filter((e) => e.type === 'reading' && e.kind === 'door').map((e) => e.type === 'reading' && e.value);
    expect(doors).toEqual([1, 0, 1, 0, 1]);
    expect(events.filter((e) => e.type === 'reading' && e.kind === 'temperature').every((e) => e.type === 'reading' && e.value === 18)).toBe(true);
    expect(events.filter((e) => e.type === 'position')).toHaveLength(2);
  });

  it('refuses to start with a device the broker does not let in, naming it', async () => {
    const url = await startAgent();
    await expect(startDevicePublisher({ url, devices: [{ ...DEVICES[0], password: 'wrong' } as SimulatedDevice], logger })).rejects.toThrow(
      /device "env-a1" cannot connect/,
    );
  });

  it('builds CONTRACT §1 topics and payloads, and calm demo plans for every device', () => {
    expect(deviceTopic({ id: 's1', kind: 'sensor' }, { type: 'reading', sensorKind: 'humidity', value: 50 })).toBe('sensors/s1/humidity');
    expect(devicePayload({ type: 'reading', sensorKind: 'humidity', value: 50 })).toBe('{"value":50}');
    expect(devicePayload({ type: 'camera', kind: 'obstruction', confidence: 1, zone: 'A2' })).toBe('{"kind":"obstruction","confidence":1,"zone":"A2"}');
    const plans = demoPlans(DEVICES);
    expect(plans.map((p) => p.deviceId)).toEqual(['env-a1', 'env-a1', 'env-a1', 'env-a1', 'cam-a', 'truck-7']);
    expect(plans.every((p) => p.everyMs >= 5000)).toBe(true);
  });
});
