/**
 * Sensors, trackers and cameras on the gateway's local broker, end to end: device client → local
 * aedes → the real agent → outbox → uplink → a real central aedes broker.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, validateEvent, type Clock } from '@pledgewatch/common';
import { watchNoDelay } from '@pledgewatch/common/testing';
import { closed, sample, startHarness, type Harness } from './local-broker-harness.ts';
import { waitFor } from './helpers.ts';

describe('local broker', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('forwards a sensor reading upstream with the zone and unit from the config, stamped by the agent when it has no time', async () => {
    // The agent's clock runs two years ahead of the wall: an event stamped by it cannot be mistaken.
    const ahead = Date.parse('2028-06-01T00:00:00.000Z') - Date.now();
    const clock: Clock = { ...systemClock, now: () => Date.now() + ahead };
    h = await startHarness({ clock });
    const sensor = await h.device('temp-a1', 'temp-pass');
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 21.5 }), { qos: 1 });
    await sensor.publishAsync('sensors/temp-a1/humidity', JSON.stringify({ value: 48, at: '2026-11-28T21:00:00.5+01:00' }), { qos: 0 });

    const temperature = await h.next('reading', (e) => e.kind === 'temperature');
    expect(temperature).toMatchObject({ type: 'reading', sensorId: 'temp-a1', kind: 'temperature', zone: 'A1', value: 21.5, unit: 'C' });
    expect(Date.parse(temperature.at)).toBeGreaterThanOrEqual(Date.parse('2028-06-01T00:00:00.000Z'));
    // a device's own time is kept, in CONTRACT form (UTC, milliseconds)
    expect(await h.next('reading', (e) => e.kind === 'humidity')).toMatchObject({ at: '2026-11-28T20:00:00.500Z', value: 48, unit: '%RH' });

    // a username other than the id logs in the device it names
    const door = await h.device('door-user', 'door-pass');
    await door.publishAsync('sensors/door-a1/door', JSON.stringify({ value: 1 }), { qos: 1 });
    expect(await h.next('reading', (e) => e.kind === 'door')).toMatchObject({ sensorId: 'door-a1', zone: 'A1', value: 1, unit: 'open' });
    for (const e of h.events()) expect(validateEvent(e).ok).toBe(true);
    expect(await sample(h.agent, 'pw_edge_local_messages_total', { kind: 'sensor' })).toBe(3);
  });

  it('forwards camera events in their own zone or the camera default, and tracker positions', async () => {
    h = await startHarness();
    const camera = await h.device('cam-1', 'cam-pass');
    await camera.publishAsync('cameras/cam-1/events', JSON.stringify({ kind: 'damage', confidence: 0.91, snapshotUri: 'file:///snap/1.jpg' }), { qos: 1 });
    await camera.publishAsync('cameras/cam-1/events', JSON.stringify({ kind: 'obstruction', confidence: 0.7, zone: 'A2' }), { qos: 1 });
    expect(await h.next('camera', (e) => e.kind === 'damage')).toMatchObject({
      type: 'camera',
      cameraId: 'cam-1',
      zone: 'A1',
      confidence: 0.91,
      snapshotUri: 'file:///snap/1.jpg',
    });
    expect(await h.next('camera', (e) => e.kind === 'obstruction')).toMatchObject({ zone: 'A2' });

    const tracker = await h.device('truck-7', 'truck-pass');
    await tracker.publishAsync('trackers/truck-7/position', JSON.stringify({ lat: 31.2304, lon: 121.4737, at: '2026-11-28T20:00:00.000Z' }), { qos: 1 });
    expect(await h.next('position')).toEqual({ type: 'position', at: '2026-11-28T20:00:00.000Z', trackerId: 'truck-7', lat: 31.2304, lon: 121.4737 });
  });

  it("sends without delay on the uplink and on devices' connections to the local broker", async () => {
    const watch = watchNoDelay();
    try {
      h = await startHarness();
      await h.device('temp-a1', 'temp-pass');
      const local = Number(new URL(h.agent.localBrokerUrl ?? '').port);
      const central = Number(new URL(h.central.url).port);
      await waitFor(() => watch.sockets.some((s) => s.remotePort === central) || undefined, 10_000, 'the uplink without delay');
      expect(watch.sockets.filter((s) => s.localPort === local)).toHaveLength(1);
    } finally {
      watch.restore();
    }
  });

  it('refuses an unknown device, a wrong password and a login without credentials, and counts each', async () => {
    h = await startHarness();
    await expect(h.device('temp-a1', 'not-the-password')).rejects.toThrow(/bad username or password/i);
    await expect(h.device('nobody', 'x')).rejects.toThrow(/bad username or password/i);
    // the id is not a username when the device has its own
    await expect(h.device('door-a1', 'door-pass')).rejects.toThrow(/bad username or password/i);
    const url = h.agent.localBrokerUrl ?? '';
    await expect(mqtt.connectAsync(url, { clientId: 'anonymous', reconnectPeriod: 0 })).rejects.toThrow(/not authorized/i);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'no_credentials' })).toBe(1);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'bad_password' })).toBe(1);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'unknown_device' })).toBe(2);
    // the agent goes on serving the devices that are in order
    const sensor = await h.device('temp-a1', 'temp-pass');
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 3 }), { qos: 1 });
    await h.next('reading');
  });

  it("refuses a device publishing to another device's topic, or a kind it does not measure, by closing its connection", async () => {
    h = await startHarness();
    const camera = await h.device('cam-1', 'cam-pass');
    const gone = closed(camera);
    // QoS 0: the broker cannot answer with an error, only close
    camera.publish('sensors/temp-a1/temperature', JSON.stringify({ value: 99 }));
    await gone;
    const sensor = await h.device('temp-a1', 'temp-pass');
    const sensorGone = closed(sensor);
    sensor.publish('sensors/temp-a1/weight', JSON.stringify({ value: 1000 }));
    await sensorGone;
    const other = await h.device('truck-7', 'truck-pass');
    const otherGone = closed(other);
    other.publish('pw/v1/gw/gw-local-1/events', '{}');
    await otherGone;
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'foreign_topic' })).toBe(3);

    const good = await h.device('temp-a1', 'temp-pass');
    await good.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 7 }), { qos: 1 });
    await h.next('reading', (e) => e.value === 7);
    expect(h.events().filter((e) => e.type === 'reading' || e.type === 'camera' || e.type === 'position')).toHaveLength(1);
  });

  it('drops malformed payloads, counts them, keeps the connection and goes on forwarding good ones', async () => {
    h = await startHarness();
    const sensor = await h.device('temp-a1', 'temp-pass');
    const camera = await h.device('cam-1', 'cam-pass');
    const bad: [typeof sensor, string, string | Buffer][] = [
      [sensor, 'sensors/temp-a1/temperature', 'not json'],
      [sensor, 'sensors/temp-a1/temperature', JSON.stringify({ value: 'warm' })],
      [sensor, 'sensors/temp-a1/temperature', JSON.stringify({ temp: 20 })],
      [sensor, 'sensors/temp-a1/humidity', JSON.stringify({ value: 40, at: 'yesterday' })],
      [sensor, 'sensors/temp-a1/humidity', JSON.stringify({ value: 40, at: '2026-13-45T99:00:00Z' })],
      [camera, 'cameras/cam-1/events', JSON.stringify({ kind: 'fire', confidence: 0.9 })],
      [camera, 'cameras/cam-1/events', JSON.stringify({ kind: 'damage', confidence: 1.5 })],
      [sensor, 'sensors/temp-a1/temperature', Buffer.alloc(70 * 1024, 0x20)],
    ];
    for (const [client, topic, payload] of bad) await client.publishAsync(topic, payload, { qos: 1 });
    await camera.publishAsync('cameras/cam-1/events', JSON.stringify({ kind: 'damage', confidence: 0.8, zone: 'B9' }), { qos: 1 });
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 19.25 }), { qos: 1 });
    await camera.publishAsync('cameras/cam-1/events', JSON.stringify({ kind: 'tamper', confidence: 0.6 }), { qos: 1 });

    await h.next('reading', (e) => e.value === 19.25);
    await h.next('camera', (e) => e.kind === 'tamper');
    expect(sensor.connected && camera.connected).toBe(true);
    const forwarded = h.events().filter((e) => e.type === 'reading' || e.type === 'camera');
    expect(forwarded).toHaveLength(2);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'malformed' })).toBe(7);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'too_large' })).toBe(1);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'bad_zone' })).toBe(1);
  });

  it('refuses subscriptions without dropping the device', async () => {
    h = await startHarness();
    const sensor = await h.device('temp-a1', 'temp-pass');
    // SUBACK 0x80, which mqtt.js reports as an error
    await expect(sensor.subscribeAsync('sensors/#', { qos: 1 })).rejects.toThrow(/subscribe error/i);
    expect(sensor.connected).toBe(true);
    expect(await sample(h.agent, 'pw_edge_local_rejected_total', { reason: 'subscribe' })).toBe(1);
  });

  it('acknowledges a QoS 1 message only once its event is stored in the outbox', async () => {
    // No central broker: whatever is acknowledged must be waiting in the outbox.
    const harness = await startHarness({ uplinkDown: true, batch: { maxEvents: 1000, maxDelayMs: 300 } });
    h = harness;
    const sensor = await harness.device('temp-a1', 'temp-pass');
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 1 }), { qos: 1 });
    expect(harness.agent.status().outbox?.depth).toBe(1);
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 2 }), { qos: 1 });
    expect(harness.agent.status().outbox?.depth).toBe(2);
  });

  it('serves its metrics and health over HTTP', async () => {
    h = await startHarness({ metrics: true });
    const sensor = await h.device('temp-a1', 'temp-pass');
    await sensor.publishAsync('sensors/temp-a1/temperature', 'oops', { qos: 1 });
    await sensor.publishAsync('sensors/temp-a1/temperature', JSON.stringify({ value: 5 }), { qos: 1 });
    await h.next('reading');
    const base = h.agent.metricsUrl;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const text = await waitFor(async () => {
      const body = await (await fetch(`${base}/metrics`)).text();
      return body.includes('pw_edge_uplink_connected 1') ? body : undefined;
    }, 5000, 'metrics with the uplink connected');
    expect(text).toMatch(/^pw_edge_local_rejected_total\{reason="malformed"\} 1$/m);
    expect(text).toMatch(/^pw_edge_local_rejected_total\{reason="bad_password"\} 0$/m);
    expect(text).toMatch(/^pw_edge_local_messages_total\{kind="sensor"\} 1$/m);
    expect(text).toMatch(/^pw_edge_local_clients 1$/m);
    expect(text).toMatch(/^pw_edge_outbox_depth \d+$/m);
    expect(text).toMatch(/^pw_edge_outbox_dropped_events_total 0$/m);
    expect(text).toContain('# TYPE pw_edge_reads_total counter');

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ gatewayId: 'gw-local-1', online: true, outbox: { dropped: 0 } });
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
