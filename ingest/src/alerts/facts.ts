/**
 * What the rules need beyond tag and reader state, kept from telemetry and gateway statuses: the
 * latest reading of each sensor, alarm episodes (water, shock), storage-spec excursions per pledge,
 * camera states, tracker positions and gateway liveness.
 *
 * A batch's telemetry is staged (`begin`), seen by the rules evaluating that batch, and kept only if
 * the batch commits (`commit`; `rollback` otherwise): a replayed or failed batch leaves no trace.
 */
import { isBefore, readerKey, type EventOf, type GatewayStatusMessage, type Pledge } from '@pledgewatch/common';
import type { AlarmFact, CameraFact, SensorFact } from '../rules/types.ts';

export interface Excursion {
  /** reading time of the latest reading taken into account */
  lastAt: string;
  outSince: string | null;
  lastExcursion: { since: string; until: string; receivedAt: number } | null;
}

export interface Liveness {
  lastStatusAt: number;
  offlineSince: number | null;
  /** intervals between consecutive online statuses, newest last */
  intervals: number[];
}

export interface ReaderReport {
  connected: boolean;
  lastReadAt: string | null;
  /** the status that reported it */
  at: string;
  /** the first status that reported the current `connected` */
  changedAt: string;
}

/** A key → value map whose writes can be held back until a commit. */
class Staged<K, V> {
  private readonly base = new Map<K, V>();
  private readonly pending = new Map<K, V>();
  staging = false;

  get(k: K): V | undefined {
    return this.pending.get(k) ?? this.base.get(k);
  }

  set(k: K, v: V): void {
    (this.staging ? this.pending : this.base).set(k, v);
  }

  commit(): void {
    for (const [k, v] of this.pending) this.base.set(k, v);
    this.pending.clear();
    this.staging = false;
  }

  rollback(): void {
    this.pending.clear();
    this.staging = false;
  }
}

export const siteZone = (siteId: string, zone: string): string => `${siteId}/${zone}`;

type Telemetry = EventOf<'reading'> | EventOf<'camera'> | EventOf<'position'>;

export class Facts {
  private readonly readings = new Staged<string, SensorFact>();
  private readonly alarms = new Staged<string, AlarmFact>();
  private readonly excursions = new Staged<string, Excursion>();
  private readonly cameras = new Staged<string, CameraFact>();
  private readonly positions = new Staged<string, { lat: number; lon: number; at: string }>();
  private readonly all = [this.readings, this.alarms, this.excursions, this.cameras, this.positions];
  // Indexes are written through: an entry whose staged value was rolled back just finds nothing.
  private readonly sensorsAt = new Map<string, Set<string>>();
  private readonly camerasAt = new Map<string, Set<string>>();
  private readonly liveness = new Map<string, Liveness>();
  private readonly readerReports = new Map<string, ReaderReport>();

  constructor(private readonly thresholds: { shockThresholdG: number; cameraConfidence: number }) {}

  begin(): void {
    for (const s of this.all) s.staging = true;
  }

  commit(): void {
    for (const s of this.all) s.commit();
  }

  rollback(): void {
    for (const s of this.all) s.rollback();
  }

  /** Takes in one telemetry event of a gateway at `siteId`; `pledgesAt` names the pledges there. */
  observe(e: Telemetry, siteId: string, receivedAt: number, pledgesAt: (siteId: string) => readonly Pledge[]): void {
    if (e.type === 'reading') this.reading(e, siteId, receivedAt, pledgesAt(siteId));
    else if (e.type === 'camera') this.camera(e, siteId, receivedAt);
    else {
      const before = this.positions.get(e.trackerId);
      if (before === undefined || !isBefore(e.at, before.at)) this.positions.set(e.trackerId, { lat: e.lat, lon: e.lon, at: e.at });
    }
  }

  sensorsIn(siteId: string, zone: string): SensorFact[] {
    return present([...(this.sensorsAt.get(siteZone(siteId, zone)) ?? [])].map((id) => this.readings.get(id)));
  }

  alarmsIn(siteId: string, zone: string): AlarmFact[] {
    return present([...(this.sensorsAt.get(siteZone(siteId, zone)) ?? [])].map((id) => this.alarms.get(id)));
  }

  camerasIn(siteId: string, zone: string): CameraFact[] {
    return present([...(this.camerasAt.get(siteZone(siteId, zone)) ?? [])].map((id) => this.cameras.get(id))).filter((c) => c.zone === zone);
  }

  readingOf(sensorId: string): SensorFact | undefined {
    return this.readings.get(sensorId);
  }

  private reading(e: EventOf<'reading'>, siteId: string, receivedAt: number, pledges: readonly Pledge[]): void {
    const fact: SensorFact = { sensorId: e.sensorId, kind: e.kind, siteId, zone: e.zone, value: e.value, unit: e.unit, at: e.at, receivedAt };
    index(this.sensorsAt, siteZone(siteId, e.zone), e.sensorId);
    const before = this.readings.get(e.sensorId);
    if (before === undefined || !isBefore(e.at, before.at)) this.readings.set(e.sensorId, fact);
    if (e.kind === 'water' || e.kind === 'shock') this.alarm(fact);
    if (e.kind === 'temperature' || e.kind === 'humidity') {
      for (const p of pledges) if (p.zones.includes(e.zone)) this.excursion(p, fact);
    }
  }

  excursionOf(pledgeId: string, sensorId: string): Excursion | undefined {
    return this.excursions.get(`${pledgeId}\u0000${sensorId}`);
  }

  position(trackerId: string): { lat: number; lon: number; at: string } | undefined {
    return this.positions.get(trackerId);
  }

  /** A gateway status arrived (ingest's clock); online statuses in a row give its heartbeat cadence. */
  statusSeen(status: GatewayStatusMessage, receivedAt: number): void {
    const before = this.liveness.get(status.gatewayId);
    const intervals = before?.intervals ?? [];
    if (status.online && before !== undefined && before.offlineSince === null && receivedAt > before.lastStatusAt) {
      intervals.push(receivedAt - before.lastStatusAt);
      if (intervals.length > 3) intervals.shift();
    }
    this.liveness.set(status.gatewayId, {
      lastStatusAt: receivedAt,
      offlineSince: status.online ? null : (before?.offlineSince ?? receivedAt),
      intervals,
    });
    // A last will was composed when the gateway connected: its reader list is stale.
    for (const r of status.online ? (status.readers ?? []) : []) {
      const key = readerKey(status.gatewayId, r.readerId);
      const prev = this.readerReports.get(key);
      const changedAt = prev !== undefined && prev.connected === r.connected ? prev.changedAt : status.at;
      this.readerReports.set(key, { connected: r.connected, lastReadAt: r.lastReadAt, at: status.at, changedAt });
    }
  }

  /**
   * What the store remembers of a gateway at start. Silence counts from `startedAt` at the earliest:
   * ingest being down is not the gateway's gap (a persistent MQTT session does not replay retained
   * statuses, so the next heartbeat is all that comes).
   */
  seed(status: GatewayStatusMessage, receivedAt: number, startedAt: number): void {
    this.statusSeen(status, receivedAt);
    const l = this.liveness.get(status.gatewayId);
    if (l !== undefined) l.lastStatusAt = Math.max(l.lastStatusAt, startedAt);
  }

  /** What is known of a gateway's liveness; one never heard from counts as heard from at `firstLook`. */
  livenessOf(gatewayId: string, online: boolean | null, firstLook: number): Liveness {
    let l = this.liveness.get(gatewayId);
    if (l === undefined) {
      l = { lastStatusAt: firstLook, offlineSince: online === false ? firstLook : null, intervals: [] };
      this.liveness.set(gatewayId, l);
    }
    return l;
  }

  readerReport(gatewayId: string, readerId: string): ReaderReport | undefined {
    return this.readerReports.get(readerKey(gatewayId, readerId));
  }

  private alarm(r: SensorFact): void {
    const alarming = r.kind === 'water' ? r.value >= 1 : r.value >= this.thresholds.shockThresholdG;
    const before = this.alarms.get(r.sensorId);
    if (alarming) {
      this.alarms.set(r.sensorId, { reading: r, since: before?.ongoing ? before.since : r.at, ongoing: true });
    } else if (before?.ongoing) {
      this.alarms.set(r.sensorId, { ...before, ongoing: false });
    }
  }

  private excursion(p: Pledge, r: SensorFact): void {
    const limit = p.storage?.[r.kind as 'temperature' | 'humidity'];
    if (limit === undefined) return;
    const key = `${p.id}\u0000${r.sensorId}`;
    const before = this.excursions.get(key);
    if (before !== undefined && isBefore(r.at, before.lastAt)) return;
    const out = (limit.min !== undefined && r.value < limit.min) || (limit.max !== undefined && r.value > limit.max);
    const outSince = before?.outSince ?? null;
    if (out) {
      this.excursions.set(key, { lastAt: r.at, outSince: outSince ?? r.at, lastExcursion: before?.lastExcursion ?? null });
    } else {
      const ended = outSince === null ? (before?.lastExcursion ?? null) : { since: outSince, until: r.at, receivedAt: r.receivedAt };
      this.excursions.set(key, { lastAt: r.at, outSince: null, lastExcursion: ended });
    }
  }

  private camera(e: EventOf<'camera'>, siteId: string, receivedAt: number): void {
    index(this.camerasAt, siteZone(siteId, e.zone), e.cameraId);
    const before = this.cameras.get(e.cameraId);
    const ev = { kind: e.kind, confidence: e.confidence, at: e.at, receivedAt, snapshotUri: e.snapshotUri };
    const next: CameraFact = before?.zone === e.zone ? { ...before } : { cameraId: e.cameraId, zone: e.zone, damage: null, blind: null, sight: null };
    if (e.kind === 'obstruction' || e.kind === 'tamper') next.blind = ev;
    else next.sight = ev;
    if (e.kind === 'damage' && e.confidence >= this.thresholds.cameraConfidence) next.damage = ev;
    this.cameras.set(e.cameraId, next);
  }
}

function index(map: Map<string, Set<string>>, key: string, id: string): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(id);
}

function present<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}
