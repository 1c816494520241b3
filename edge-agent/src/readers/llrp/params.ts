/**
 * The two LLRP parameter encodings, generically: TLV (6-bit reserved + 10-bit type, 16-bit length
 * including the 4-byte header) and TV (high bit set, 7-bit type, value of a length fixed by type).
 * Walking by these rules skips what a decoder does not know, such as vendor Custom (1023) parameters.
 */
import { TV_LENGTHS } from './constants.ts';
import { LlrpDecodeError } from './frames.ts';

export interface LlrpParam {
  type: number;
  tv: boolean;
  /** the parameter's value, after its 1-byte (TV) or 4-byte (TLV) header */
  value: Buffer;
}

/**
 * Yields the parameters in buf[start, end). An unknown TV type carries no length, so nothing after
 * it can be located: the walk stops there (its enclosing parameter's length still lets the caller's
 * walk go on). A TLV length that overruns its container is corruption and throws.
 */
export function* walkParams(buf: Buffer, start = 0, end = buf.length): Generator<LlrpParam> {
  let at = start;
  while (at < end) {
    const first = buf[at] as number;
    if ((first & 0x80) !== 0) {
      const type = first & 0x7f;
      const length = TV_LENGTHS.get(type);
      if (length === undefined) return;
      if (at + 1 + length > end) throw new LlrpDecodeError(`TV parameter ${type} overruns its container at offset ${at}`);
      yield { type, tv: true, value: buf.subarray(at + 1, at + 1 + length) };
      at += 1 + length;
      continue;
    }
    if (at + 4 > end) throw new LlrpDecodeError(`truncated TLV header at offset ${at}`);
    const type = buf.readUInt16BE(at) & 0x3ff;
    const length = buf.readUInt16BE(at + 2);
    if (length < 4 || at + length > end) throw new LlrpDecodeError(`TLV parameter ${type} has bad length ${length} at offset ${at}`);
    yield { type, tv: false, value: buf.subarray(at + 4, at + length) };
    at += length;
  }
}

/** Parameters of a message body or TLV value that begin after `fixed` bytes of fields. */
export function paramsAfter(value: Buffer, fixed: number): Generator<LlrpParam> {
  if (value.length < fixed) throw new LlrpDecodeError(`needs ${fixed} bytes of fields, got ${value.length}`);
  return walkParams(value, fixed);
}

/** Reads the fixed fields of a value with bounds checks that name what was cut short. */
export class FieldReader {
  private at = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  u8(): number {
    return this.buf.readUInt8(this.need(1));
  }

  s8(): number {
    return this.buf.readInt8(this.need(1));
  }

  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  s16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  u32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  /** u64 as a number: microsecond timestamps stay exact in a double until the year 2255. */
  u64(): number {
    return Number(this.buf.readBigUInt64BE(this.need(8)));
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** UTF-8 string preceded by its 16-bit byte count. */
  utf8(): string {
    return this.bytes(this.u16()).toString('utf8');
  }

  /** Parameters after the fields read so far. */
  params(): Generator<LlrpParam> {
    return walkParams(this.buf, this.at);
  }

  private need(n: number): number {
    if (this.at + n > this.buf.length) throw new LlrpDecodeError(`${this.what} is cut short at byte ${this.at}`);
    const at = this.at;
    this.at += n;
    return at;
  }
}

/** Builds a message body or a parameter value field by field. */
export class FieldWriter {
  private readonly parts: Buffer[] = [];

  u8(v: number): this {
    return this.push(1, (b) => b.writeUInt8(v & 0xff));
  }

  s8(v: number): this {
    return this.push(1, (b) => b.writeInt8(v));
  }

  u16(v: number): this {
    return this.push(2, (b) => b.writeUInt16BE(v & 0xffff));
  }

  s16(v: number): this {
    return this.push(2, (b) => b.writeInt16BE(v));
  }

  u32(v: number): this {
    return this.push(4, (b) => b.writeUInt32BE(v >>> 0));
  }

  u64(v: number): this {
    return this.push(8, (b) => b.writeBigUInt64BE(BigInt(Math.max(0, Math.trunc(v)))));
  }

  utf8(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.u16(bytes.length).raw(bytes);
  }

  raw(...buffers: Buffer[]): this {
    this.parts.push(...buffers);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }

  private push(n: number, write: (b: Buffer) => void): this {
    const b = Buffer.allocUnsafe(n);
    write(b);
    this.parts.push(b);
    return this;
  }
}

/** A TLV parameter: header + value. */
export function tlv(type: number, ...value: Buffer[]): Buffer {
  const body = Buffer.concat(value);
  if (body.length + 4 > 0xffff) throw new RangeError(`TLV parameter ${type} too long (${body.length + 4} bytes)`);
  const header = Buffer.allocUnsafe(4);
  header.writeUInt16BE(type & 0x3ff, 0);
  header.writeUInt16BE(body.length + 4, 2);
  return Buffer.concat([header, body]);
}

/** A TV parameter: the type byte with its high bit set, then the value. */
export function tv(type: number, value: Buffer): Buffer {
  const expected = TV_LENGTHS.get(type);
  if (expected !== value.length) throw new RangeError(`TV parameter ${type} takes ${expected ?? '?'} bytes, got ${value.length}`);
  return Buffer.concat([Buffer.of(0x80 | type), value]);
}
