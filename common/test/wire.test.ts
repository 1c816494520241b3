import { describe, expect, it } from 'vitest';
import { FakeClock, parseTopic, topics, validateBatch, isGatewayTopic, parseJson } from '../src/index.ts';

const at = '2026-11-28T20:00:00.000Z';
const envelope = (events: unknown[]) => ({ v: 1, gatewayId: 'gw-01', seq: 1042, sentAt: at, events });

describe('validateBatch', () => {
  it('accepts every event type of CONTRACT §2', () => {
    const events = [
      { type: 'tag.arrived', at, epc: '3034257BF7194E4000001A85', zone: 'A1', readerId: 'r1', antenna: 1, rssi: -60.5 },
      { type: 'tag.departed', at, epc: '3034257BF7194E4000001A85', zone: 'A1', readerId: 'r1', lastSeenAt: at },
      { type: 'tag.moved', at, epc: '3034257BF7194E4000001A85', fromZone: 'A1', zone: 'B2', readerId: 'r1' },
      { type: 'inventory.snapshot', at, zone: 'A1', readerId: 'r1', epcs: ['3034257BF7194E4000001A85'] },
      { type: 'reading', at, sensorId: 'scale-a1', kind: 'weight', zone: 'A1', value: 24_950, unit: 'kg' },
      { type: 'position', at, trackerId: 'trk-1', lat: 31.2, lon: 121.5 },
      { type: 'camera', at, cameraId: 'cam-1', zone: 'A1', kind: 'damage', confidence: 0.91, snapshotUri: 's3://x/1.jpg' },
      { type: 'reader.status', at, readerId: 'r1', connected: false, error: 'timeout' },
    ];
    const result = validateBatch(envelope(events));
    expect(result.ok && result.value.batch.events).toHaveLength(8);
    expect(result.ok && result.value.rejected).toEqual([]);
  });

  it('takes an optional EPC URI on tag.arrived, and names a malformed one', () => {
    const arrived = { type: 'tag.arrived', at, epc: '3074257BF7194E4000001A85', zone: 'A1', readerId: 'r1' };
    const result = validateBatch(envelope([{ ...arrived, epcUri: 'urn:epc:tag:sgtin-96:3.0614141.812345.6789' }, { ...arrived, epcUri: 'sgtin 3' }]));
    if (!result.ok) throw new Error('envelope should pass');
    expect(result.value.batch.events).toHaveLength(1);
    expect(result.value.rejected.map((r) => r.errors[0]?.path)).toEqual(['/events/1/epcUri']);
  });

  it('names the JSON path and reason of a bad envelope', () => {
    const result = validateBatch({ ...envelope([]), seq: -1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe('/seq');
  });

  it('drops a bad event but keeps the rest, saying which and why', () => {
    const good = { type: 'reader.status', at, readerId: 'r1', connected: true };
    const result = validateBatch(envelope([good, { type: 'tag.arrived', at, epc: 'xyz', zone: 'A1', readerId: 'r1' }, { type: 'nope' }]));
    if (!result.ok) throw new Error('envelope should pass');
    expect(result.value.batch.events).toEqual([good]);
    expect(result.value.rejected.map((r) => r.errors[0]?.path)).toEqual(['/events/1/epc', '/events/2/type']);
    expect(result.value.rejected[1]?.errors[0]?.reason).toMatch(/unknown event type "nope"/);
  });

  it('reports non-JSON payloads instead of throwing', () => {
    const r = parseJson(Buffer.from('{oops'));
    expect(r.ok).toBe(false);
  });
});

describe('topics', () => {
  it('builds and parses every contract topic', () => {
    expect(parseTopic(topics.events('gw-01'))).toEqual({ kind: 'gateway.events', gatewayId: 'gw-01' });
    expect(parseTopic(topics.status('gw-01'))).toEqual({ kind: 'gateway.status', gatewayId: 'gw-01' });
    expect(parseTopic(topics.price('copper'))).toEqual({ kind: 'price', commodity: 'copper' });
    expect(parseTopic(topics.fx('EUR', 'USD'))).toEqual({ kind: 'fx', base: 'EUR', quote: 'USD' });
    expect(parseTopic('pw/v1/prices/fx/eur/USD')).toBeNull();
    expect(parseTopic('pw/v1/prices/fx/EURO/USD')).toBeNull();
    expect(parseTopic('pw/v1/prices/fx')).toEqual({ kind: 'price', commodity: 'fx' });
    expect(parseTopic('sensors/scale-a1/weight')).toEqual({ kind: 'sensor', sensorId: 'scale-a1', sensorKind: 'weight' });
    expect(parseTopic('trackers/t1/position')).toEqual({ kind: 'tracker', trackerId: 't1' });
    expect(parseTopic('cameras/c1/events')).toEqual({ kind: 'camera', cameraId: 'c1' });
    expect(parseTopic('sensors/s1/smell')).toBeNull();
    expect(parseTopic('pw/v1/gw/bad id/events')).toBeNull();
  });

  it('confines a gateway to its own tree', () => {
    expect(isGatewayTopic('pw/v1/gw/gw-1/events', 'gw-1')).toBe(true);
    expect(isGatewayTopic('pw/v1/gw/gw-10/events', 'gw-1')).toBe(false);
    expect(isGatewayTopic('pw/v1/prices/x', 'gw-1')).toBe(false);
  });
});

describe('FakeClock', () => {
  it('fires timers in due order only when advanced', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    clock.setTimeout(() => fired.push('a'), 100);
    const t = clock.setInterval(() => fired.push('i'), 150);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(250);
    expect(fired).toEqual(['a', 'i', 'b', 'i']);
    t.cancel();
    clock.advance(1000);
    expect(fired).toHaveLength(4);
    expect(clock.now()).toBe(1349);
  });
});
