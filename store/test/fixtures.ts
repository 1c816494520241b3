/** Builders for the contract suites: valid records with only the interesting fields spelled out. */
import type { AlertRecord, GatewayStatusMessage, Pledge, PriceRecord, ReaderHealth, Release, TagState } from '@pledgewatch/common';
import type { Checkpoint, LoggedBatch, MqttAccount } from '../src/state.ts';

export const T0 = Date.parse('2026-03-01T08:00:00.000Z');
export const at = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

/** A 96-bit EPC in upper-case hex, distinct for each n. */
export function epc(n: number): string {
  return `E28011${n.toString(16).toUpperCase().padStart(18, '0')}`;
}

export function pledge(p: Partial<Pledge> & { id: string; epcs?: string[] }): Pledge {
  const { epcs = [epc(1)], ...rest } = p;
  return {
    tenant: 'bank-a',
    borrower: 'Acme Grain Ltd',
    siteId: 'site-1',
    zones: ['z1', 'z2'],
    commodity: 'wheat',
    unit: 't',
    items: epcs.map((e) => ({ epc: e, quantity: 1.5 })),
    scales: [],
    loan: { outstanding: 100_000, currency: 'EUR' },
    haircut: 0.2,
    limits: { warnLtv: 0.7, marginCallLtv: 0.8, liquidationLtv: 0.9 },
    quantityTolerance: 0.02,
    createdAt: at(0),
    ...rest,
  };
}

export function gatewayAccount(id: string, siteId: string): MqttAccount {
  return { id, kind: 'gateway', siteId, passwordHash: `scrypt$${id}`, createdAt: at(0) };
}

export function feedAccount(id: string): MqttAccount {
  return { id, kind: 'feed', siteId: null, passwordHash: `scrypt$${id}`, createdAt: at(0) };
}

export function gatewayStatus(gatewayId: string, online: boolean, offsetMs = 0): GatewayStatusMessage {
  return {
    v: 1,
    gatewayId,
    online,
    at: at(offsetMs),
    agentVersion: '0.1.0',
    readers: [{ readerId: 'r1', connected: online, lastReadAt: online ? at(offsetMs) : null }],
    outbox: { depth: 3, dropped: 0 },
  };
}

export function price(commodity: string, value: number, offsetMs: number): PriceRecord {
  return { commodity, price: value, currency: 'EUR', unit: 't', at: at(offsetMs), source: 'test-feed' };
}

export function tag(e: string, t: Partial<TagState> = {}): TagState {
  return {
    epc: e,
    gatewayId: 'gw-1',
    siteId: 'site-1',
    zone: 'z1',
    readerId: 'r1',
    present: true,
    lastSeenAt: at(0),
    updatedAt: at(0),
    ...t,
  };
}

export function reader(gatewayId: string, readerId: string, connected: boolean, offsetMs = 0): ReaderHealth {
  return { gatewayId, readerId, connected, at: at(offsetMs) };
}

export function batch(gatewayId: string, seq: number, payload = `{"seq":${seq}}`): LoggedBatch {
  return { gatewayId, seq, appliedAt: at(seq), payload: Buffer.from(payload) };
}

export function state(tags: TagState[], readers: ReaderHealth[] = [], batches: LoggedBatch[] = []): Checkpoint {
  return { tags, readers, batches: batches.map(({ gatewayId, seq }) => ({ gatewayId, seq })) };
}

export const byEpc = (a: TagState, b: TagState): number => (a.epc < b.epc ? -1 : a.epc > b.epc ? 1 : 0);

export function alert(a: Partial<AlertRecord> & { id: string; pledgeId: string }): AlertRecord {
  return {
    tenant: 'bank-a',
    type: 'QUANTITY_LOSS',
    subject: 'quantity',
    severity: 'warning',
    status: 'open',
    openedAt: at(0),
    updatedAt: at(0),
    summary: '3 t of 100 t missing',
    evidence: [{ kind: 'scale', at: at(0), sensorId: 'scale-1', expectedKg: 1000, measuredKg: 900, thresholdKg: 980 }],
    occurrences: 1,
    lastSeenAt: at(0),
    latched: false,
    ...a,
  };
}

export function release(r: Partial<Release> & { id: string; pledgeId: string }): Release {
  return { tenant: 'bank-a', epcs: [epc(1)], reason: 'sold to Beta Trading', createdAt: at(0), ...r };
}
