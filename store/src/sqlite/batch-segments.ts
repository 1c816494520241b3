/**
 * Where the SQLite adapter keeps the payloads of logged batches (LoggedBatch): append-only segment
 * files beside the database, the rows of `batch_log` pointing into them. A batch's payload (tens of
 * kilobytes of JSON) written as a blob went to SQLite's WAL, then to the database file at the WAL
 * checkpoint, then through the free list when the checkpoint retired it — about half of ingest's time
 * per message. Here it is one write() and, once every batch in a segment is retired, one unlink.
 *
 * Durability is that of the database under `synchronous = NORMAL`: nothing is fsynced per batch, so a
 * power cut may lose the last batches' rows or bytes; a process crash loses nothing. A record carries its
 * length and CRC-32, so a torn or missing record is detected when it is read back (and skipped, with a
 * warning: its tags are refreshed by the gateway's next inventory round).
 *
 * Each open store writes its own files (a random writer id in the name) and deletes only its own
 * retired segments, or another writer's that no row needs and nobody touched for STALE_MS.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER = 8;
/** A segment is closed once it holds this much; retired segments are deleted whole. */
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/** Another writer's segment that no row needs is deleted only after this long untouched. */
const STALE_MS = 10 * 60 * 1000;

export interface SegmentRef {
  segment: string;
  offset: number;
}

export class BatchSegments {
  private readonly writer = randomBytes(4).toString('hex');
  private serial = 0;
  private current: { name: string; fd: number; size: number } | null = null;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Appends one payload and says where it is. */
  append(payload: Buffer): SegmentRef {
    const seg = this.writable();
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    const offset = seg.size;
    // One system call for both (this runs for every batch ingest takes in).
    const written = writevSync(seg.fd, [header, payload], offset);
    if (written !== HEADER + payload.length) throw new Error(`short write to batch segment ${seg.name}: ${written} of ${HEADER + payload.length} bytes`);
    seg.size += HEADER + payload.length;
    return { segment: seg.name, offset };
  }

  /** The payload at `ref`, or an error saying why it cannot be read back. */
  read(ref: SegmentRef): Buffer | Error {
    let fd: number;
    try {
      fd = openSync(join(this.dir, ref.segment), 'r');
    } catch (err) {
      return new Error(`batch log segment ${ref.segment} is missing (${(err as Error).message})`);
    }
    try {
      const header = Buffer.alloc(HEADER);
      if (readSync(fd, header, 0, HEADER, ref.offset) < HEADER) return new Error(`batch log ${ref.segment}@${ref.offset}: record cut short`);
      const length = header.readUInt32LE(0);
      const payload = Buffer.alloc(length);
      if (readSync(fd, payload, 0, length, ref.offset + HEADER) < length) return new Error(`batch log ${ref.segment}@${ref.offset}: record cut short`);
      if (crc32(payload) !== header.readUInt32LE(4)) return new Error(`batch log ${ref.segment}@${ref.offset}: checksum mismatch`);
      return payload;
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the segments no pending batch needs (see the file comment for whose). */
  prune(needed: ReadonlySet<string>): void {
    const now = Date.now();
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.seg') || needed.has(name) || name === this.current?.name) continue;
      try {
        if (!name.startsWith(`${this.writer}-`) && now - statSync(join(this.dir, name)).mtimeMs < STALE_MS) continue;
        unlinkSync(join(this.dir, name));
      } catch {
        // gone already (another writer pruned it)
      }
    }
  }

  close(): void {
    if (this.current !== null) closeSync(this.current.fd);
    this.current = null;
  }

  private writable(): { name: string; fd: number; size: number } {
    if (this.current !== null && this.current.size < this.segmentBytes) return this.current;
    if (this.current !== null) {
      closeSync(this.current.fd);
      // Not kept if the next one cannot be opened: it would be closed a second time at the next try.
      this.current = null;
    }
    const name = `${this.writer}-${String(++this.serial).padStart(6, '0')}.seg`;
    const fd = openSync(join(this.dir, name), 'wx+');
    this.current = { name, fd, size: fstatSync(fd).size };
    return this.current;
  }
}
