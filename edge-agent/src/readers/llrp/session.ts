/**
 * One connection's life with an LLRP reader: the setup handshake, then reports, notifications and
 * keepalives until the connection fails. Reconnecting is the driver's business: a session that
 * fails reports it once through `closed` and is thrown away.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock, Timer } from '@pledgewatch/common';
import type { TagRead } from '../driver.ts';
import * as llrp from './codec.ts';
import { LlrpConnection } from './connection.ts';
import { inventoryRospec, readerConfig, ROSPEC_ID } from './setup.ts';
import type { LlrpSettingsConfig } from './settings.ts';

const { MessageType: M } = llrp;

/** A reader timestamp further than this from the agent's clock is not trusted; the read gets "now". */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** stop() waits this long at most for CLOSE_CONNECTION_RESPONSE. */
const CLOSE_WAIT_MS = 1000;

export class LlrpStatusError extends Error {
  override readonly name = 'LlrpStatusError';
  constructor(
    readonly step: string,
    readonly status: llrp.LlrpStatus,
  ) {
    super(`${step} failed: ${llrp.describeStatus(status)}`);
  }
}

export interface SessionEvents {
  read(read: TagRead): void;
  /** the reader completed (part of) an inventory round at `at` */
  round(at: number): void;
  /** setup done: the ROSpec runs */
  ready(): void;
  /** the session is over; never called after shutdown() */
  closed(error: string): void;
}

export interface SessionOptions {
  settings: LlrpSettingsConfig;
  antennas: readonly number[];
  clock: Clock;
  log: Logger;
  connect: (host: string, port: number) => Socket;
  events: SessionEvents;
}

export class LlrpSession {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly silenceMs: number;
  private conn: LlrpConnection | null = null;
  private watchdog: Timer | null = null;
  private roundTimer: Timer | null = null;
  private antennas: number[];
  private inventorying = false;
  /** once the reader marks round ends itself, the fallback round timer stands down */
  private readerMarksRounds = false;
  private lastRoundAt = 0;
  private skewWarned = false;
  private over = false;
  private onConnectionAttempt: ((status: number) => void) | null = null;
  private readonly handlers: ReadonlyMap<number, (frame: llrp.LlrpFrame) => void> = new Map([
    [M.RO_ACCESS_REPORT, (f: llrp.LlrpFrame) => this.onReport(f)],
    [M.READER_EVENT_NOTIFICATION, (f: llrp.LlrpFrame) => this.onNotification(f)],
    [M.KEEPALIVE, (f: llrp.LlrpFrame) => this.conn?.send(llrp.encodeKeepaliveAck(f.id))],
    [M.ERROR_MESSAGE, (f: llrp.LlrpFrame) => this.log.warn({ status: llrp.describeStatus(llrp.decodeStatusBody(f.body)) }, 'reader sent ERROR_MESSAGE')],
  ]);

  constructor(private readonly options: SessionOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.antennas = [...options.antennas];
    this.silenceMs = 2 * options.settings.keepaliveMs;
  }

  open(): void {
    const { host, port } = this.options.settings;
    const socket = this.options.connect(host, port);
    socket.setNoDelay(true);
    const attempt = new Promise<number>((resolve) => (this.onConnectionAttempt = resolve));
    this.conn = new LlrpConnection(socket, this.clock, {
      frame: (frame) => this.onFrame(frame),
      closed: (error) => this.end(error.message),
    });
    this.armWatchdog(this.silenceMs);
    socket.once('connect', () => {
      this.log.debug({ host, port }, 'connected; waiting for the reader to accept');
      this.setup(attempt).catch((err: unknown) => this.fail(err instanceof Error ? err.message : String(err)));
    });
  }

  /** Says goodbye (CLOSE_CONNECTION, waiting briefly for the answer) and closes; reports nothing. */
  async shutdown(): Promise<void> {
    const conn = this.conn;
    this.over = true;
    this.stopTimers();
    if (conn === null || conn.closed) return;
    await conn.request((id) => llrp.encodeCloseConnection(id), M.CLOSE_CONNECTION_RESPONSE, CLOSE_WAIT_MS).catch(() => undefined);
    conn.close(new Error('closed by the agent'));
  }

  private async setup(attempt: Promise<number>): Promise<void> {
    const status = await attempt;
    if (status !== 0) throw new Error(`reader refused the connection: ${llrp.connectionAttemptStatusName(status)}`);
    const caps = llrp.decodeCapabilitiesResponse(
      (await this.call((id) => llrp.encodeGetReaderCapabilities(id), M.GET_READER_CAPABILITIES_RESPONSE, 'GET_READER_CAPABILITIES')).body,
    );
    this.limitAntennas(caps.general?.maxAntennas);
    const { keepaliveMs, roundMs } = this.options.settings;
    await this.call((id) => llrp.encodeSetReaderConfig(id, readerConfig(keepaliveMs)), M.SET_READER_CONFIG_RESPONSE, 'SET_READER_CONFIG');
    await this.call((id) => llrp.encodeRospecIdMessage(M.DELETE_ROSPEC, id, 0), M.DELETE_ROSPEC_RESPONSE, 'DELETE_ROSPEC');
    await this.call((id) => llrp.encodeAddRospec(id, inventoryRospec(this.antennas, roundMs)), M.ADD_ROSPEC_RESPONSE, 'ADD_ROSPEC');
    await this.call((id) => llrp.encodeRospecIdMessage(M.ENABLE_ROSPEC, id, ROSPEC_ID), M.ENABLE_ROSPEC_RESPONSE, 'ENABLE_ROSPEC');
    await this.call((id) => llrp.encodeRospecIdMessage(M.START_ROSPEC, id, ROSPEC_ID), M.START_ROSPEC_RESPONSE, 'START_ROSPEC');
    if (this.over) return;
    this.inventorying = true;
    this.lastRoundAt = this.clock.now();
    this.roundTimer = this.clock.setInterval(() => this.fallbackRound(), roundMs);
    this.log.info({ antennas: this.antennas, maxAntennas: caps.general?.maxAntennas, firmware: caps.general?.firmware }, 'reader inventorying');
    this.options.events.ready();
  }

  /** Sends a request and checks the LLRPStatus of its answer; a failure throws LlrpStatusError. */
  private async call(encode: (id: number) => Buffer, responseType: number, step: string): Promise<llrp.LlrpFrame> {
    const conn = this.conn;
    if (conn === null || this.over) throw new Error(`${step}: session closed`);
    const frame = await conn.request(encode, responseType, this.silenceMs);
    const status = llrp.decodeStatusBody(frame.body, step);
    if (!llrp.isSuccess(status)) throw new LlrpStatusError(step, status);
    return frame;
  }

  /** Antennas the reader does not have would fail ADD_ROSPEC on every retry: leave them out, loudly. */
  private limitAntennas(maxAntennas: number | undefined): void {
    if (maxAntennas === undefined || maxAntennas === 0) return;
    const missing = this.antennas.filter((a) => a > maxAntennas);
    if (missing.length === 0) return;
    this.antennas = this.antennas.filter((a) => a <= maxAntennas);
    this.log.error({ missing, maxAntennas }, 'configured antennas the reader does not have; not inventoried');
    if (this.antennas.length === 0) throw new Error(`none of the configured antennas exist (reader has ${maxAntennas})`);
  }

  private onFrame(frame: llrp.LlrpFrame): void {
    const handle = this.handlers.get(frame.type);
    if (handle === undefined) {
      this.log.debug({ frame: llrp.describeFrame(frame) }, 'frame ignored');
      return;
    }
    try {
      handle(frame);
    } catch (err) {
      // One undecodable message does not desynchronise the stream (framing is by header): skip it.
      this.log.warn({ err: (err as Error).message, frame: llrp.describeFrame(frame) }, 'frame skipped');
    }
  }

  private onReport(frame: llrp.LlrpFrame): void {
    const { tags } = llrp.decodeRoAccessReport(frame.body);
    const now = this.clock.now();
    const { events } = this.options;
    // Without AntennaID (a reader ignoring the selector) a read is only placeable on a one-antenna reader.
    const sole = this.antennas.length === 1 ? this.antennas[0] : undefined;
    for (const tag of tags) {
      if (tag.epc === undefined || tag.epc === '') continue;
      const antenna = tag.antennaId ?? sole ?? 0;
      const at = this.readTime(tag.firstSeenUtcUs, now);
      events.read(tag.peakRssi === undefined ? { epc: tag.epc, antenna, at } : { epc: tag.epc, antenna, rssi: tag.peakRssi, at });
    }
    if (this.inventorying) this.round(now);
  }

  /** FirstSeenTimestampUTC in ms, unless the reader's clock is off (no NTP on many readers). */
  private readTime(firstSeenUs: number | undefined, now: number): number {
    if (firstSeenUs === undefined) return now;
    const ms = Math.floor(firstSeenUs / 1000);
    if (Math.abs(ms - now) <= MAX_CLOCK_SKEW_MS) return ms;
    if (!this.skewWarned) this.log.warn({ readerTime: new Date(ms).toISOString(), offByMs: ms - now }, 'reader clock is off; reads timed by the agent');
    this.skewWarned = true;
    return now;
  }

  private onNotification(frame: llrp.LlrpFrame): void {
    const { events } = llrp.decodeReaderEventNotification(frame.body);
    for (const e of events) {
      switch (e.kind) {
        case 'connectionAttempt':
          this.onConnectionAttempt?.(e.status);
          this.onConnectionAttempt = null;
          break;
        case 'aispec':
          if (e.eventType !== 0 || e.rospecId !== ROSPEC_ID || !this.inventorying) break;
          this.readerMarksRounds = true;
          this.round(this.clock.now());
          break;
        case 'rospec':
          // Null stop trigger: the ROSpec only ends if someone else stopped, disabled or preempted it.
          if (e.rospecId === ROSPEC_ID && e.eventType !== 0 && this.inventorying) {
            this.fail(`ROSpec ${llrp.ROSPEC_EVENTS[e.eventType] ?? e.eventType} (by another client or a reader fault)`);
          }
          break;
        case 'antenna':
          if (e.connected) this.log.info({ antenna: e.antennaId }, 'antenna connected');
          else this.log.warn({ antenna: e.antennaId }, 'antenna disconnected');
          break;
        case 'readerException':
          this.log.warn({ message: e.message, antenna: e.antennaId }, 'reader exception');
          break;
        case 'bufferWarning':
          this.log.warn({ fullnessPercent: e.fullnessPercent }, 'reader report buffer filling up');
          break;
        case 'bufferOverflow':
          this.log.error('reader report buffer overflowed: reads were lost');
          break;
        case 'connectionClose':
          this.log.info('reader is closing the connection');
          break;
        default:
          this.log.debug({ event: e.kind }, 'reader event');
      }
    }
  }

  private round(now: number): void {
    this.lastRoundAt = now;
    this.options.events.round(now);
  }

  /** For readers that neither report an empty round nor send AISpec events: a live session is inventorying. */
  private fallbackRound(): void {
    const now = this.clock.now();
    if (!this.readerMarksRounds && this.inventorying && now - this.lastRoundAt >= this.options.settings.roundMs) this.round(now);
  }

  /** Fires when nothing has been heard for two keepalive periods. */
  private armWatchdog(ms: number): void {
    this.watchdog = this.clock.setTimeout(() => {
      const conn = this.conn;
      if (conn === null || this.over) return;
      const quiet = this.clock.now() - conn.lastHeardAt;
      if (quiet >= this.silenceMs) this.fail(`reader silent for ${quiet} ms (keepalive ${this.options.settings.keepaliveMs} ms)`);
      else this.armWatchdog(this.silenceMs - quiet);
    }, ms);
  }

  private fail(reason: string): void {
    this.conn?.close(new Error(reason));
    this.end(reason);
  }

  private end(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.inventorying = false;
    this.stopTimers();
    this.options.events.closed(reason);
  }

  private stopTimers(): void {
    this.watchdog?.cancel();
    this.roundTimer?.cancel();
    this.watchdog = null;
    this.roundTimer = null;
  }
}
