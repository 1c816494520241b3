/** One handler per uplink event type; the table is the whole routing. */
import type { EventOf, EventType, UplinkEvent } from '@pledgewatch/common';
import type { BatchWork } from '../work.ts';
import { readerStatus } from './reader-status.ts';
import { inventorySnapshot } from './snapshot.ts';
import { tagArrived, tagDeparted, tagMoved } from './tags.ts';
import { camera, position, reading } from './telemetry.ts';

type Handlers = { [T in EventType]: (work: BatchWork, event: EventOf<T>) => void };

export const eventHandlers: Handlers = {
  'tag.arrived': tagArrived,
  'tag.departed': tagDeparted,
  'tag.moved': tagMoved,
  'inventory.snapshot': inventorySnapshot,
  'reader.status': readerStatus,
  reading,
  position,
  camera,
};

export function applyEvent(work: BatchWork, event: UplinkEvent): void {
  (eventHandlers[event.type] as (work: BatchWork, event: UplinkEvent) => void)(work, event);
}
