/**
 * @serialport/parser-readline with two guards a reader on a long-lived port needs: a line that
 * never ends (wrong delimiter or baud rate: garbage without line breaks) is dropped once it passes
 * a bound instead of growing the buffer for ever, and the unfinished line left when the port
 * closes is dropped instead of being passed on as if complete — a line cut mid-EPC can still look
 * like a valid, shorter EPC.
 */
import type { TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';

const EMPTY = Buffer.alloc(0);

export interface BoundedLineParserOptions {
  delimiter: string;
  maxBytes: number;
  /** Bytes dropped, and why: 'too-long' (no delimiter within maxBytes) or 'truncated' (port closed mid-line). */
  onDropped: (reason: 'too-long' | 'truncated', bytes: number) => void;
}

export class BoundedLineParser extends ReadlineParser {
  private readonly maxBytes: number;
  private readonly onDropped: BoundedLineParserOptions['onDropped'];
  /** Inside a line already dropped as too long. */
  private skipping = false;
  private skipTail: Buffer = EMPTY;

  constructor(options: BoundedLineParserOptions) {
    // latin1 maps every byte to one character: line noise cannot split into multi-byte sequences.
    super({ delimiter: options.delimiter, encoding: 'latin1' });
    this.maxBytes = options.maxBytes;
    this.onDropped = options.onDropped;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    let data = chunk;
    if (this.skipping) {
      // The rest of an overlong line is dropped too, up to its delimiter (which may straddle chunks),
      // or its tail would pass for a line of its own.
      const joined = Buffer.concat([this.skipTail, chunk]);
      const end = joined.indexOf(this.delimiter);
      if (end === -1) {
        this.skipTail = joined.subarray(Math.max(0, joined.length - (this.delimiter.length - 1)));
        return callback();
      }
      data = joined.subarray(end + this.delimiter.length);
      this.skipping = false;
      this.skipTail = EMPTY;
    }
    super._transform(data, encoding, (err?: Error | null) => {
      if (this.buffer.length > this.maxBytes) {
        this.onDropped('too-long', this.buffer.length);
        this.buffer = EMPTY;
        this.skipping = true;
      }
      callback(err);
    });
  }

  override _flush(callback: TransformCallback): void {
    if (this.buffer.length > 0) this.onDropped('truncated', this.buffer.length);
    this.buffer = EMPTY;
    callback();
  }
}
