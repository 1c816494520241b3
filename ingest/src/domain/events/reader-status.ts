/** reader.status: a reader that is down makes its zones unknown, never empty. */
import type { EventOf } from '@pledgewatch/common';
import type { BatchWork } from '../work.ts';

export function readerStatus(work: BatchWork, e: EventOf<'reader.status'>): void {
  work.putReader({ gatewayId: work.gateway.id, readerId: e.readerId, connected: e.connected, at: e.at });
}
