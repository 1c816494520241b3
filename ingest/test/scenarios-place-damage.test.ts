/** Scenarios for RELOCATION and DAMAGE. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Evidence } from '@pledgewatch/common';
import { epc } from './harness.ts';
import { arrivals, bigPledge, range, startScenario, T0, type Scenario } from './scenario-harness.ts';

let s: Scenario;
afterEach(async () => s.close());

const kinds = (evidence: Evidence[] | undefined) =>
  (evidence ?? []).map((e) => (e.kind === 'reading' ? `reading:${e.sensorKind}` : e.kind === 'camera' ? `camera:${e.event}` : e.kind)).sort();

describe('RELOCATION', () => {
  it('opens when a pallet is moved to an unpledged zone, naming the tags and where they are', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.advance(10_000);
    await s.send(range(1, 5).map((n) => ({ type: 'tag.moved', at: s.now(), epc: epc(n), fromZone: 'A1', zone: 'C9', readerId: 'r1' })));
    await s.advance(29_000);
    expect(await s.alerts()).toEqual([]); // a stray read at a zone border is not a move yet
    await s.advance(2_000);
    const alerts = await s.alerts();
    expect(alerts.map((a) => [a.type, a.subject, a.severity])).toEqual([['RELOCATION', 'tags', 'warning']]);
    expect(alerts[0]?.summary).toBe('5 t of pledged goods seen outside the pledge, in C9');
    const moved = alerts[0]?.evidence.find((e) => e.kind === 'relocated-tags');
    expect(moved?.kind === 'relocated-tags' && moved.tags.map((t) => [t.epc, t.zone])).toEqual(range(1, 5).map((n) => [epc(n), 'C9']));
    // Moved back: resolved after the hold, and no quantity loss was ever raised.
    await s.send(range(1, 5).map((n) => ({ type: 'tag.moved', at: s.now(), epc: epc(n), fromZone: 'C9', zone: 'A1', readerId: 'r1' })));
    await s.advance(310_000, 10_000);
    expect((await s.alerts()).map((a) => [a.type, a.status])).toEqual([['RELOCATION', 'resolved']]);
  });

  it('is critical when goods turn up at another site', async () => {
    s = await startScenario({ pledges: [bigPledge(10)], gateways: { 'gw-1': 'site-1', 'gw-9': 'site-9' } });
    await s.send(arrivals(s, range(1, 10)));
    await s.send(arrivals(s, [3], 'Y1', 'r9'), { gatewayId: 'gw-9' });
    await s.advance(31_000);
    expect(await s.alerts()).toMatchObject([{ type: 'RELOCATION', severity: 'critical', summary: '1 t of pledged goods seen outside the pledge, in site-9/Y1' }]);
  });

  it('opens for a tracker outside the pledge geofence', async () => {
    const fence = { lat: 31.23, lon: 121.47, radiusM: 500 };
    s = await startScenario({ pledges: [bigPledge(10, { geofence: fence, trackers: ['trk-7'] })] });
    const at = (lat: number) => ({ type: 'position', at: s.now(), trackerId: 'trk-7', lat, lon: 121.47 });
    await s.send([at(31.231)]);
    await s.advance(120_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    await s.send([at(31.25)]); // ~2.2 km north
    await s.advance(40_000, 10_000);
    const [alert] = await s.alerts();
    expect(alert).toMatchObject({ type: 'RELOCATION', subject: 'tracker:trk-7', severity: 'critical' });
    expect(alert?.evidence).toMatchObject([{ kind: 'position', trackerId: 'trk-7', lat: 31.25, lon: 121.47 }]);
    const position = alert?.evidence[0];
    expect(position?.kind === 'position' && position.outsideByM).toBeGreaterThan(1_500);
  });
});

describe('DAMAGE', () => {
  it('raises one alert for a flood, with the humidity, the water sensor and the camera frame in evidence', async () => {
    s = await startScenario({ pledges: [bigPledge(10, { storage: { humidity: { max: 70 } } })] });
    const reading = (sensorId: string, kind: string, value: number) => ({ type: 'reading', at: s.now(), sensorId, kind, zone: 'A1', value, unit: kind === 'humidity' ? '%RH' : 'wet' });
    await s.send([reading('hum-1', 'humidity', 62)]);
    await s.advance(60_000, 10_000);
    await s.send([reading('hum-1', 'humidity', 86)]);
    await s.advance(60_000, 10_000);
    expect(await s.alerts()).toEqual([]); // humidity alone waits out the hold
    await s.send([reading('wet-1', 'water', 1), reading('hum-1', 'humidity', 91)]);
    await s.advance(1_000);
    const [opened] = await s.alerts();
    expect(opened).toMatchObject({ type: 'DAMAGE', subject: 'zone:A1', severity: 'critical', summary: 'Damage risk in zone A1' });
    expect(kinds(opened?.evidence)).toEqual(['reading:humidity', 'reading:water']);
    await s.send([{ type: 'camera', at: s.now(), cameraId: 'cam-1', zone: 'A1', kind: 'damage', confidence: 0.93, snapshotUri: 'https://cams.example/cam-1/0001.jpg' }]);
    // Already critical, so not an escalation: told with the next alert.updated, within the notify interval.
    await s.advance(60_000, 10_000);
    const alerts = await s.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ occurrences: 2, summary: 'Damage risk in zone A1' });
    expect(kinds(alerts[0]?.evidence)).toEqual(['camera:damage', 'reading:humidity', 'reading:water']);
    expect(alerts[0]?.evidence).toContainEqual(expect.objectContaining({ kind: 'camera', confidence: 0.93, snapshotUri: 'https://cams.example/cam-1/0001.jpg' }));
    expect(alerts[0]?.evidence).toContainEqual(expect.objectContaining({ kind: 'reading', sensorKind: 'humidity', value: 91, limit: { max: 70 } }));
    // Dry and back in spec: damage may have been done, so the alert waits for a person.
    await s.send([reading('wet-1', 'water', 0), reading('hum-1', 'humidity', 55)]);
    await s.advance(7_200_000, 60_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['open']);
    expect((await s.store.eventsAfter(0, 100)).map((e) => e.type)).toEqual(['alert.opened', 'alert.updated']);
  });

  it('raises DAMAGE for a storage-spec excursion only after the hold, and resolves it once back in spec', async () => {
    s = await startScenario({ pledges: [bigPledge(10, { storage: { temperature: { min: -10, max: 40 } } })] });
    const temp = (value: number) => s.send([{ type: 'reading', at: s.now(), sensorId: 't-1', kind: 'temperature', zone: 'A1', value, unit: 'C' }]);
    await temp(45);
    for (let i = 0; i < 9; i++) {
      await s.advance(60_000, 10_000);
      await temp(44);
    }
    expect(await s.alerts()).toEqual([]);
    await s.advance(61_000, 10_000);
    expect(await s.alerts()).toMatchObject([{ type: 'DAMAGE', severity: 'warning', summary: 'Damage risk in zone A1', evidence: [expect.objectContaining({ sensorKind: 'temperature', value: 44, since: T0 })] }]);
    await temp(30);
    // The finished excursion stays visible for a minute after its last reading, then the hold runs.
    await s.advance(300_000, 10_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['open']);
    await s.advance(70_000, 10_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['resolved']);
  });

  it('raises DAMAGE at once for a shock over the threshold, not for one below, nor for a doubtful camera', async () => {
    s = await startScenario({ pledges: [bigPledge(10)] });
    await s.send([
      { type: 'reading', at: s.now(), sensorId: 'acc-1', kind: 'shock', zone: 'A1', value: 1.2, unit: 'g' },
      { type: 'camera', at: s.now(), cameraId: 'cam-1', zone: 'A1', kind: 'damage', confidence: 0.6 },
    ]);
    await s.advance(120_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    // A spike between calm readings of one batch still counts.
    await s.send([0.1, 6.5, 0.2].map((value) => ({ type: 'reading', at: s.now(), sensorId: 'acc-1', kind: 'shock', zone: 'A1', value, unit: 'g' })));
    expect(await s.alerts()).toMatchObject([{ type: 'DAMAGE', severity: 'critical', summary: 'Damage risk in zone A1', evidence: [expect.objectContaining({ sensorKind: 'shock', value: 6.5 })] }]);
  });
});
