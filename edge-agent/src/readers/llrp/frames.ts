/**
 * LLRP framing: the 10-byte message header and a stream framer. TCP delivers bytes, not messages:
 * one socket read may hold part of a frame, several frames, or the tail of one and the head of the
 * next. llrpjs decoded one frame per read and lost the rest of every burst (DEPENDENCIES.md); the
 * framer here returns every complete frame a chunk finishes, however the bytes were cut.
 */
import { HEADER_BYTES, LLRP_VERSION, messageName } from './constants.ts';

/** A malformed frame or parameter. On a stream, a bad header means the connection cannot be trusted. */
export class LlrpDecodeError extends Error {
  override readonly name = 'LlrpDecodeError';
}

export interface LlrpHeader {
  /** 3-bit protocol version: 1 = LLRP 1.0.1, 2 = LLRP 1.1 */
  version: number;
  /** 10-bit message type */
  type: number;
  /** whole frame length, header included */
  length: number;
  /** echoed by the reader in the response to a request */
  id: number;
}

export interface LlrpFrame extends LlrpHeader {
  /** the message body, after the header */
  body: Buffer;
}

export function decodeHeader(buf: Buffer, offset = 0): LlrpHeader {
  if (buf.length - offset < HEADER_BYTES) throw new LlrpDecodeError(`LLRP header needs ${HEADER_BYTES} bytes, got ${buf.length - offset}`);
  const word = buf.readUInt16BE(offset);
  return { version: (word >> 10) & 0x7, type: word & 0x3ff, length: buf.readUInt32BE(offset + 2), id: buf.readUInt32BE(offset + 6) };
}

export function encodeHeader(type: number, id: number, bodyLength: number, version = LLRP_VERSION): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt16BE(((version & 0x7) << 10) | (type & 0x3ff), 0);
  header.writeUInt32BE(HEADER_BYTES + bodyLength, 2);
  header.writeUInt32BE(id >>> 0, 6);
  return header;
}

/** A whole frame: header + body. */
export function encodeFrame(type: number, id: number, body: Buffer = Buffer.alloc(0), version = LLRP_VERSION): Buffer {
  return Buffer.concat([encodeHeader(type, id, body.length, version), body]);
}

/** Splits one complete frame (as in the LTK .bin files) into header and body. */
export function parseFrame(buf: Buffer): LlrpFrame {
  const header = decodeHeader(buf);
  if (header.length !== buf.length) throw new LlrpDecodeError(`${messageName(header.type)} says ${header.length} bytes, frame has ${buf.length}`);
  return { ...header, body: buf.subarray(HEADER_BYTES) };
}

export function describeFrame(frame: LlrpHeader): string {
  return `${messageName(frame.type)}#${frame.id}`;
}

/** 16 MiB: a report of 100 000 tags is ~3.5 MiB; anything far bigger is a corrupt length, not data. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Accumulates socket chunks and returns every frame they complete, in order. Bytes are copied at
 * most once per frame (chunks are only joined when a frame is complete), so a frame trickling in
 * one byte per read costs no more than one arriving whole.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private next: LlrpHeader | null = null;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes held that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds a chunk; returns the frames it completed (possibly none). Throws LlrpDecodeError on a corrupt header. */
  push(chunk: Buffer): LlrpFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: LlrpFrame[] = [];
    for (;;) {
      if (this.next === null) {
        if (this.buffered < HEADER_BYTES) break;
        this.next = this.readHeader();
      }
      if (this.buffered < this.next.length) break;
      const bytes = this.take(this.next.length);
      frames.push({ ...this.next, body: bytes.subarray(HEADER_BYTES) });
      this.next = null;
    }
    return frames;
  }

  private readHeader(): LlrpHeader {
    this.gather(HEADER_BYTES);
    const header = decodeHeader(this.chunks[0] as Buffer);
    if (header.length < HEADER_BYTES) throw new LlrpDecodeError(`${messageName(header.type)} declares length ${header.length} (< ${HEADER_BYTES})`);
    if (header.length > this.maxFrameBytes) {
      throw new LlrpDecodeError(`${messageName(header.type)} declares length ${header.length} (> ${this.maxFrameBytes})`);
    }
    return header;
  }

  /** Joins leading chunks until the first holds at least n bytes (n <= buffered). */
  private gather(n: number): void {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) return;
    let count = 0;
    let bytes = 0;
    while (bytes < n) bytes += (this.chunks[count++] as Buffer).length;
    this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), bytes));
  }

  private take(n: number): Buffer {
    this.gather(n);
    const first = this.chunks[0] as Buffer;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
