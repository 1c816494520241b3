/**
 * Tag presence: turns noisy reads into the CONTRACT events tag.arrived / tag.moved / tag.departed,
 * reader.status and inventory.snapshot. No I/O; time comes from the injected clock.
 *
 * Absence is measured on each reader's "healthy time": a clock that runs only while the reader is
 * connected and completing rounds. A reader that is down leaves its zones unknown, never empty
 * (DESIGN.md "RFID is noisy"), so its tags neither depart while it is down nor right after it
 * returns: a reconnect gives every tag a fresh full timeout.
 *
 * The present tags outlive the process through restore() and saveChanges() (the agent keeps them in
 * edge.db). Restored tags belong to readers that are not connected yet, so the time the agent was
 * down counts like time a reader is down: their timeouts start afresh once the reader is back.
 */
import { EPC_PATTERN, isoTime, normaliseEpc, type Clock, type Timer, type UplinkEvent } from '@pledgewatch/common';
import { EpcUriCache } from './epc.ts';
import { TypedEmitter } from './events.ts';
import type { ReaderConnection, RoundDone, TagRead } from './readers/driver.ts';

export interface PresenceReader {
  id: string;
  /** antenna number (as a JSON key) → zone */
  antennas: Readonly<Record<string, string>>;
}

export interface PresenceOptions {
  readers: readonly PresenceReader[];
  absenceTimeoutMs: number;
  snapshotIntervalMs: number;
  clock: Clock;
  /** Tag URI of an upper-case hex EPC for tag.arrived (default: a bounded epc-tds cache). */
  epcUris?: { uri(epc: string): string | undefined };
}

/** A read presence cannot place; the agent logs and counts these. */
export interface IgnoredRead {
  readerId: string;
  antenna: number;
  epc: string;
  reason: 'unknown-reader' | 'unmapped-antenna' | 'bad-epc';
}

export interface ReaderHealth {
  readerId: string;
  connected: boolean;
  /** epoch ms of the last read, null before the first */
  lastReadAt: number | null;
}

/** A present tag as it is saved across restarts. */
export interface PresenceRecord {
  epc: string;
  readerId: string;
  zone: string;
  /** epoch ms */
  lastSeenAt: number;
}

/** What changed since the last save: tags to write, tags gone. */
export interface PresenceChanges {
  present: PresenceRecord[];
  gone: string[];
}

export interface PresenceEvents {
  event: UplinkEvent;
  ignored: IgnoredRead;
}

interface ReaderState {
  id: string;
  zoneOf: Map<number, string>;
  zones: string[];
  connected: boolean;
  /** ms of healthy time credited so far */
  healthyMs: number;
  /** when healthy time was last credited (connect or round); null while disconnected */
  creditedAt: number | null;
  lastReadAt: number | null;
  epcs: Set<string>;
}

interface TagState {
  epc: string;
  readerId: string;
  zone: string;
  lastSeenAt: number;
  /** the owning reader's healthy time when the tag was last seen */
  seenMark: number;
}

const EPC_REGEX = new RegExp(EPC_PATTERN);

export class PresenceTracker extends TypedEmitter<PresenceEvents> {
  private readonly clock: Clock;
  private readonly absenceTimeoutMs: number;
  private readonly snapshotIntervalMs: number;
  private readonly readers = new Map<string, ReaderState>();
  private readonly tags = new Map<string, TagState>();
  /** EPCs whose state changed since the last save; thousands of reads of one tag make one entry. */
  private readonly changed = new Set<string>();
  private readonly epcUris: { uri(epc: string): string | undefined };
  private snapshotTimer: Timer | null = null;

  constructor(options: PresenceOptions) {
    super();
    this.clock = options.clock;
    this.absenceTimeoutMs = options.absenceTimeoutMs;
    this.snapshotIntervalMs = options.snapshotIntervalMs;
    this.epcUris = options.epcUris ?? new EpcUriCache();
    for (const r of options.readers) {
      const zoneOf = new Map(Object.entries(r.antennas).map(([antenna, zone]) => [Number(antenna), zone] as const));
      this.readers.set(r.id, {
        id: r.id,
        zoneOf,
        zones: [...new Set(zoneOf.values())],
        connected: false,
        healthyMs: 0,
        creditedAt: null,
        lastReadAt: null,
        epcs: new Set(),
      });
    }
  }

  /** Starts the periodic inventory snapshots. */
  start(): void {
    this.snapshotTimer ??= this.clock.setInterval(() => this.snapshot(), this.snapshotIntervalMs);
  }

  stop(): void {
    this.snapshotTimer?.cancel();
    this.snapshotTimer = null;
  }

  /**
   * Takes back the tags present when the agent last saved, before start(). A tag of a reader no
   * longer in the config is left out (and forgotten at the next save): nothing could time it.
   */
  restore(records: readonly PresenceRecord[]): { restored: number; skipped: number } {
    let restored = 0;
    for (const record of records) {
      const reader = this.readers.get(record.readerId);
      const epc = normaliseEpc(record.epc);
      if (reader === undefined || !EPC_REGEX.test(epc)) {
        this.changed.add(record.epc);
        continue;
      }
      this.tags.set(epc, { epc, readerId: reader.id, zone: record.zone, lastSeenAt: record.lastSeenAt, seenMark: reader.healthyMs });
      reader.epcs.add(epc);
      restored++;
    }
    return { restored, skipped: records.length - restored };
  }

  /** Hands what changed since the last successful save to `save`; kept for the next try if it throws. */
  saveChanges(save: (changes: PresenceChanges) => void): number {
    if (this.changed.size === 0) return 0;
    const changes: PresenceChanges = { present: [], gone: [] };
    for (const epc of this.changed) {
      const tag = this.tags.get(epc);
      if (tag === undefined) changes.gone.push(epc);
      else changes.present.push({ epc, readerId: tag.readerId, zone: tag.zone, lastSeenAt: tag.lastSeenAt });
    }
    save(changes);
    this.changed.clear();
    return changes.present.length + changes.gone.length;
  }

  /** Tags present now, those of disconnected readers included. */
  get size(): number {
    return this.tags.size;
  }

  read(readerId: string, read: TagRead): void {
    const reader = this.readers.get(readerId);
    const zone = reader?.zoneOf.get(read.antenna);
    const epc = normaliseEpc(read.epc);
    if (reader === undefined || zone === undefined || !EPC_REGEX.test(epc)) {
      const reason = reader === undefined ? 'unknown-reader' : zone === undefined ? 'unmapped-antenna' : 'bad-epc';
      this.emit('ignored', { readerId, antenna: read.antenna, epc: read.epc, reason });
      return;
    }
    reader.lastReadAt = read.at;
    this.changed.add(epc);
    const at = isoTime(read.at);
    const tag = this.tags.get(epc);
    if (tag === undefined) {
      this.tags.set(epc, { epc, readerId, zone, lastSeenAt: read.at, seenMark: this.healthyNow(reader) });
      reader.epcs.add(epc);
      const epcUri = this.epcUris.uri(epc);
      this.emit('event', {
        type: 'tag.arrived',
        at,
        epc,
        zone,
        readerId,
        antenna: read.antenna,
        ...(read.rssi === undefined ? {} : { rssi: read.rssi }),
        ...(epcUri === undefined ? {} : { epcUri }),
      });
      return;
    }
    if (tag.zone !== zone) this.emit('event', { type: 'tag.moved', at, epc, fromZone: tag.zone, zone, readerId });
    // A tag belongs to the reader that saw it last: its absence is timed on that reader's health.
    if (tag.readerId !== readerId) {
      this.readers.get(tag.readerId)?.epcs.delete(epc);
      reader.epcs.add(epc);
      tag.readerId = readerId;
    }
    tag.zone = zone;
    tag.lastSeenAt = read.at;
    tag.seenMark = this.healthyNow(reader);
  }

  /** A finished round credits healthy time and lets the reader's unseen tags depart. */
  round(readerId: string, _round: RoundDone): void {
    const reader = this.readers.get(readerId);
    if (reader === undefined || !reader.connected || reader.creditedAt === null) return;
    const now = this.clock.now();
    const gap = now - reader.creditedAt;
    reader.creditedAt = now;
    // No round for longer than the whole timeout: the reader was stuck, not inventorying. Like a
    // reconnect, that time does not count and every tag starts a fresh timeout.
    if (gap > this.absenceTimeoutMs) this.restartTimeouts(reader);
    else reader.healthyMs += gap;
    for (const epc of reader.epcs) {
      const tag = this.tags.get(epc);
      if (tag !== undefined && reader.healthyMs - tag.seenMark >= this.absenceTimeoutMs) this.depart(reader, tag, now);
    }
  }

  status(readerId: string, status: ReaderConnection): void {
    const reader = this.readers.get(readerId);
    if (reader === undefined || reader.connected === status.connected) return;
    const now = this.clock.now();
    reader.connected = status.connected;
    if (status.connected) {
      reader.creditedAt = now;
      this.restartTimeouts(reader);
    } else {
      // Time since the last round is dropped: the reader may have been failing for all of it.
      reader.creditedAt = null;
    }
    this.emit('event', {
      type: 'reader.status',
      at: isoTime(now),
      readerId,
      connected: status.connected,
      ...(status.connected || status.error === undefined ? {} : { error: status.error }),
    });
  }

  /** Emits one inventory.snapshot per (connected reader, zone): a disconnected reader's zones are unknown, so none. */
  snapshot(): void {
    const at = isoTime(this.clock.now());
    for (const reader of this.readers.values()) {
      if (!reader.connected) continue;
      for (const zone of reader.zones) this.emit('event', { type: 'inventory.snapshot', at, zone, readerId: reader.id, epcs: this.present(reader.id, zone) });
    }
  }

  /** EPCs present now, sorted; optionally only one reader's, or one zone of it. */
  present(readerId?: string, zone?: string): string[] {
    const epcs: string[] = [];
    for (const tag of this.tags.values()) {
      if ((readerId === undefined || tag.readerId === readerId) && (zone === undefined || tag.zone === zone)) epcs.push(tag.epc);
    }
    return epcs.sort();
  }

  health(): ReaderHealth[] {
    return [...this.readers.values()].map((r) => ({ readerId: r.id, connected: r.connected, lastReadAt: r.lastReadAt }));
  }

  /** Healthy time at this instant: the credited part plus the running round, if the reader is up. */
  private healthyNow(reader: ReaderState): number {
    return reader.healthyMs + (reader.creditedAt === null ? 0 : this.clock.now() - reader.creditedAt);
  }

  private restartTimeouts(reader: ReaderState): void {
    for (const epc of reader.epcs) {
      const tag = this.tags.get(epc);
      if (tag !== undefined) tag.seenMark = reader.healthyMs;
    }
  }

  private depart(reader: ReaderState, tag: TagState, now: number): void {
    this.tags.delete(tag.epc);
    reader.epcs.delete(tag.epc);
    this.changed.add(tag.epc);
    this.emit('event', {
      type: 'tag.departed',
      at: isoTime(now),
      epc: tag.epc,
      zone: tag.zone,
      readerId: reader.id,
      lastSeenAt: isoTime(tag.lastSeenAt),
    });
  }
}
