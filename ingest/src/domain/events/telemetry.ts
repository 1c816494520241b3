/** reading, position, camera: kept as time series (the rules of a later issue act on them too). */
import type { EventOf } from '@pledgewatch/common';
import type { BatchWork } from '../work.ts';

export function reading(work: BatchWork, e: EventOf<'reading'>): void {
  work.points.push({
    measurement: 'reading',
    tags: { gatewayId: work.gateway.id, sensorId: e.sensorId, kind: e.kind, zone: e.zone },
    fields: { value: e.value },
    time: Date.parse(e.at),
  });
}

export function position(work: BatchWork, e: EventOf<'position'>): void {
  work.points.push({
    measurement: 'position',
    tags: { gatewayId: work.gateway.id, trackerId: e.trackerId },
    fields: { lat: e.lat, lon: e.lon },
    time: Date.parse(e.at),
  });
}

export function camera(work: BatchWork, e: EventOf<'camera'>): void {
  work.points.push({
    measurement: 'camera',
    tags: { gatewayId: work.gateway.id, cameraId: e.cameraId, zone: e.zone, kind: e.kind },
    fields: { confidence: e.confidence },
    time: Date.parse(e.at),
  });
}
