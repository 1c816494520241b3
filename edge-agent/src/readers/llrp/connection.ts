/**
 * One LLRP TCP connection: frames the byte stream, matches responses to requests by message id,
 * and hands every other frame on. It knows nothing of what the messages mean.
 */
import type { Socket } from 'node:net';
import type { Clock, Timer } from '@pledgewatch/common';
import { MessageType, messageName } from './constants.ts';
import { FrameReader, type LlrpFrame } from './frames.ts';

export interface ConnectionHandlers {
  /** A frame that is not the answer to a pending request. */
  frame(frame: LlrpFrame): void;
  /** The connection is gone (closed by either side, a socket error, or a corrupt stream); called once. */
  closed(error: Error): void;
}

interface Pending {
  responseType: number;
  resolve: (frame: LlrpFrame) => void;
  reject: (error: Error) => void;
  timer: Timer;
}

export class LlrpConnection {
  /** The agent clock's time of the last bytes received: the reader is alive if this is recent. */
  lastHeardAt: number;
  private readonly framer = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedWith: Error | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly clock: Clock,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.lastHeardAt = clock.now();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close(new Error('connection closed by the reader')));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  send(frame: Buffer): void {
    if (this.closedWith === null) this.socket.write(frame);
  }

  /**
   * Sends the message `encode` builds with a fresh message id and resolves with the reader's answer:
   * the expected response, or an ERROR_MESSAGE with the same id (both carry an LLRPStatus).
   */
  request(encode: (id: number) => Buffer, responseType: number, timeoutMs: number): Promise<LlrpFrame> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<LlrpFrame>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no ${messageName(responseType)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { responseType, resolve, reject, timer });
      this.socket.write(encode(id));
    });
  }

  /** Closes the connection (idempotent); pending requests fail with `error`. */
  close(error: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.reject(error);
    }
    this.pending.clear();
    this.socket.destroy();
    this.handlers.closed(error);
  }

  private onData(chunk: Buffer): void {
    this.lastHeardAt = this.clock.now();
    let frames: LlrpFrame[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      // A bad header leaves no way to find the next frame: the stream cannot be trusted any more.
      this.close(err as Error);
      return;
    }
    for (const frame of frames) {
      if (this.closedWith !== null) return;
      if (!this.answer(frame)) this.handlers.frame(frame);
    }
  }

  /** Resolves the request this frame answers; false if it answers none. */
  private answer(frame: LlrpFrame): boolean {
    const p = this.pending.get(frame.id);
    // Reader-initiated messages number themselves and may reuse an id: the type must match too.
    if (p === undefined || (frame.type !== p.responseType && frame.type !== MessageType.ERROR_MESSAGE)) return false;
    this.pending.delete(frame.id);
    p.timer.cancel();
    p.resolve(frame);
    return true;
  }
}
