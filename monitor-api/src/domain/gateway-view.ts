/** A gateway as a lender sees it: online state, reader health and outbox, from what the store holds. */
import type { ReaderHealth } from '@pledgewatch/common';
import type { GatewayRecord } from '@pledgewatch/store';

export interface ReaderView {
  readerId: string;
  connected: boolean;
  lastReadAt: string | null;
  /** When `connected` was last reported. */
  at: string | null;
}

/**
 * Readers come from two reports: the gateway's periodic status (all its readers at once) and
 * reader.status events (one reader, as it changes). The newer report wins for each reader.
 */
export function gatewayView(gateway: GatewayRecord, readers: readonly ReaderHealth[]) {
  const byId = new Map<string, ReaderView>();
  const status = gateway.status;
  for (const r of status?.readers ?? []) {
    byId.set(r.readerId, { readerId: r.readerId, connected: r.connected, lastReadAt: r.lastReadAt, at: status?.at ?? null });
  }
  for (const h of readers) {
    if (h.gatewayId !== gateway.id) continue;
    const known = byId.get(h.readerId);
    if (known === undefined) {
      byId.set(h.readerId, { readerId: h.readerId, connected: h.connected, lastReadAt: null, at: h.at });
    } else if (known.at === null || Date.parse(h.at) >= Date.parse(known.at)) {
      byId.set(h.readerId, { ...known, connected: h.connected, at: h.at });
    }
  }
  return {
    id: gateway.id,
    siteId: gateway.siteId,
    online: gateway.online,
    lastSeenAt: gateway.lastSeenAt,
    agentVersion: status?.agentVersion ?? null,
    readers: [...byId.values()].sort((a, b) => a.readerId.localeCompare(b.readerId)),
    outbox: status?.outbox ?? null,
  };
}
