/**
 * The LLRP reader adapter of the ReaderDriver port: keeps one session with the reader alive,
 * reconnecting with capped exponential backoff and jitter, and reports `status` only on changes.
 *
 * What `round` means here: LLRP continuous inventory has no round boundary of its own, so the
 * ROSpec is built with one AISpec run per `roundMs` (see setup.ts) and `round` is emitted after
 * every RO_ACCESS_REPORT and on every End_Of_AISpec event. For a reader that sends neither when its
 * field is empty, a timer emits `round` every `roundMs` while the session is healthy (keepalives
 * arriving), so tags can still depart from an emptied field.
 */
import net from 'node:net';
import { pino, type Logger } from 'pino';
import type { Clock, Timer } from '@pledgewatch/common';
import { TypedEmitter } from '../../events.ts';
import type { ReaderDriver, ReaderEvents } from '../driver.ts';
import { LlrpSession } from './session.ts';
import type { LlrpSettingsConfig } from './settings.ts';

export interface LlrpReaderOptions {
  id: string;
  settings: LlrpSettingsConfig;
  /** antenna numbers to inventory */
  antennas: readonly number[];
  clock: Clock;
  /** Uniform [0, 1) source for backoff jitter; inject a seeded one in tests. */
  random?: () => number;
  logger?: Logger;
  /** Opens the TCP connection (default net.connect). */
  connect?: (host: string, port: number) => net.Socket;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): doubling from initialMs, capped at maxMs, of
 * which a random half is jitter so readers that failed together (a switch reboot) do not all retry
 * in lockstep, and no retry is ever immediate.
 */
export function backoffDelay(attempt: number, reconnect: { initialMs: number; maxMs: number }, random: () => number): number {
  const ceiling = Math.min(reconnect.maxMs, reconnect.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LlrpReader extends TypedEmitter<ReaderEvents> implements ReaderDriver {
  readonly id: string;
  private readonly options: LlrpReaderOptions;
  private readonly log: Logger;
  private readonly random: () => number;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private session: LlrpSession | null = null;
  private retry: Timer | null = null;
  private failures = 0;
  private connected: boolean | null = null;

  constructor(options: LlrpReaderOptions) {
    super();
    this.id = options.id;
    this.options = options;
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ readerId: options.id, driver: 'llrp' });
  }

  /** Connects in the background; `status` says when the reader is inventorying (or why not). */
  start(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'running';
      this.open();
    }
    return Promise.resolve();
  }

  /** Ends the session politely (CLOSE_CONNECTION) and emits nothing more. */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    this.retry?.cancel();
    this.retry = null;
    const session = this.session;
    this.session = null;
    await session?.shutdown();
    this.log.info('reader stopped');
  }

  private open(): void {
    const { settings, antennas, clock } = this.options;
    const session = new LlrpSession({
      settings,
      antennas,
      clock,
      log: this.log,
      connect: this.options.connect ?? ((host, port) => net.connect({ host, port })),
      events: {
        read: (read) => {
          if (this.state === 'running') this.emit('read', read);
        },
        round: (at) => {
          if (this.state === 'running') this.emit('round', { at });
        },
        ready: () => {
          this.failures = 0;
          this.setConnected(true);
        },
        closed: (error) => this.onClosed(session, error),
      },
    });
    this.session = session;
    session.open();
  }

  private onClosed(session: LlrpSession, error: string): void {
    if (this.state !== 'running' || this.session !== session) return;
    this.session = null;
    this.setConnected(false, error);
    const delay = backoffDelay(this.failures++, this.options.settings.reconnect, this.random);
    const { host, port } = this.options.settings;
    this.log.warn({ error, host, port, attempt: this.failures, retryInMs: delay }, 'reader connection lost; retrying');
    this.retry = this.options.clock.setTimeout(() => {
      this.retry = null;
      if (this.state === 'running') this.open();
    }, delay);
  }

  private setConnected(connected: boolean, error?: string): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emit('status', connected || error === undefined ? { connected } : { connected, error });
  }
}
