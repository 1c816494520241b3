/**
 * The serial reader adapter of the ReaderDriver port: a line-oriented reader on a serial or
 * USB-serial port (node-serialport), one tag read per line in a configured format.
 *
 * A line reader has no rounds of its own, so `round` is emitted every `roundMs` while the port is
 * open (and, with `silenceTimeoutMs`, while lines keep coming). A port that errors or closes — a
 * USB cable pulled, the device node gone — makes the reader disconnected, and opening is retried
 * with capped exponential backoff and jitter until the path exists again.
 */
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Clock, Timer } from '@pledgewatch/common';
import { TypedEmitter } from '../../events.ts';
import type { ReaderDriver, ReaderEvents } from '../driver.ts';
import { backoffDelay } from '../llrp/driver.ts';
import { LineFormat, MAX_LINE_BYTES, type LineRejection } from './line-format.ts';
import { BoundedLineParser } from './line-parser.ts';
import type { SerialSettingsConfig } from './settings.ts';

/** What opening a port needs; serialport's SerialPort and SerialPortMock both take it. */
export interface SerialOpenSettings {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  autoOpen: false;
}

/** The part of a serialport stream the driver uses. */
export interface SerialPortLike extends Duplex {
  open(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  readonly isOpen: boolean;
}

export interface SerialReaderOptions {
  id: string;
  settings: SerialSettingsConfig;
  clock: Clock;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: () => number;
  logger?: Logger;
  /** pw_edge_ignored_lines_total; lines are still refused (and logged) without it. */
  ignoredLines?: Counter<'reader' | 'reason'>;
  /** Creates the port (default serialport's SerialPort); tests pass SerialPortMock. */
  openPort?: (settings: SerialOpenSettings) => SerialPortLike;
}

type OpenPort = (settings: SerialOpenSettings) => SerialPortLike;

export class SerialReader extends TypedEmitter<ReaderEvents> implements ReaderDriver {
  readonly id: string;
  private readonly options: SerialReaderOptions;
  private readonly settings: SerialSettingsConfig;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly format: LineFormat;
  private readonly warned = new Set<LineRejection>();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private port: SerialPortLike | null = null;
  private openPort: OpenPort | null = null;
  private retry: Timer | null = null;
  private rounds: Timer | null = null;
  private failures = 0;
  private connected: boolean | null = null;
  private lastLineAt = 0;

  constructor(options: SerialReaderOptions) {
    super();
    this.id = options.id;
    this.options = options;
    this.settings = options.settings;
    this.random = options.random ?? Math.random;
    this.format = new LineFormat(options.settings.format, options.settings.defaultAntenna);
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ readerId: options.id, driver: 'serial', path: options.settings.path });
  }

  /** Opens the port in the background; `status` says when lines can flow (or why not). */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'running';
    try {
      this.openPort = this.options.openPort ?? (await loadSerialPort());
    } catch (err) {
      const error = `cannot load serialport: ${(err as Error).message}`;
      this.log.error({ error }, 'serial reader cannot run on this machine');
      this.setConnected(false, error);
      return;
    }
    if (this.state === 'running') this.open();
  }

  /** Closes the port and emits nothing more. */
  async stop(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (!wasRunning) return;
    this.retry?.cancel();
    this.retry = null;
    this.stopRounds();
    const port = this.port;
    this.port = null;
    // A port still opening is closed by onOpened when it gets there.
    if (port?.isOpen === true) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.log.info('reader stopped');
  }

  private open(): void {
    const { path, baudRate, dataBits, parity, stopBits, delimiter } = this.settings;
    const openPort = this.openPort;
    if (openPort === null) return;
    let port: SerialPortLike;
    try {
      port = openPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
    } catch (err) {
      // serialport refuses bad settings synchronously; config validation should make this unreachable.
      this.onLost(null, (err as Error).message);
      return;
    }
    this.port = port;
    const parser = new BoundedLineParser({ delimiter, maxBytes: MAX_LINE_BYTES, onDropped: (reason, bytes) => this.ignore(reason, `${bytes} bytes`) });
    port.pipe(parser);
    parser.on('data', (line: string) => this.onLine(port, line));
    // Always listened to: an unhandled stream 'error' would throw and take the agent down.
    port.on('error', (err: Error) => this.onLost(port, err.message));
    port.on('close', (err?: Error | null) => this.onLost(port, err?.message ?? 'port closed'));
    port.open((err) => {
      if (err !== null) this.onLost(port, err.message);
      else this.onOpened(port);
    });
  }

  private onOpened(port: SerialPortLike): void {
    if (this.state !== 'running' || this.port !== port) return port.close(() => undefined);
    this.failures = 0;
    this.lastLineAt = this.options.clock.now();
    this.log.info({ baudRate: this.settings.baudRate }, 'serial port open');
    this.setConnected(true);
    this.rounds = this.options.clock.setInterval(() => this.round(), this.settings.roundMs);
  }

  private onLine(port: SerialPortLike, line: string): void {
    if (this.state !== 'running' || this.port !== port) return;
    const at = this.options.clock.now();
    this.lastLineAt = at;
    // Any line, parsed or not, shows the reader is alive.
    if (this.connected === false && this.settings.silenceTimeoutMs !== undefined) this.setConnected(true);
    const parsed = this.format.parse(line);
    if (!parsed.ok) return this.ignore(parsed.reason, line);
    this.emit('read', parsed.rssi === undefined ? { epc: parsed.epc, antenna: parsed.antenna, at } : { epc: parsed.epc, antenna: parsed.antenna, rssi: parsed.rssi, at });
  }

  private round(): void {
    if (this.state !== 'running') return;
    const now = this.options.clock.now();
    const silence = this.settings.silenceTimeoutMs;
    if (silence !== undefined && now - this.lastLineAt >= silence) {
      // An open port with nothing on it may be a reader powered off behind a fixed adapter: its
      // zones become unknown rather than empty.
      this.setConnected(false, `no line from the reader for ${silence} ms`);
      return;
    }
    if (this.connected === true) this.emit('round', { at: now });
  }

  /** Open failed, port errored or closed: once per port, status down and a reopen scheduled. */
  private onLost(port: SerialPortLike | null, error: string): void {
    if (this.state !== 'running' || this.port !== port) return;
    this.port = null;
    this.stopRounds();
    if (port?.isOpen === true) port.close(() => undefined);
    this.setConnected(false, error);
    const delay = backoffDelay(this.failures++, this.settings.reconnect, this.random);
    // Said once per outage at warn: a reader unplugged for a weekend should not fill the log.
    const level = this.failures === 1 ? 'warn' : 'debug';
    this.log[level]({ error, attempt: this.failures, retryInMs: delay }, 'serial port unavailable; retrying');
    this.retry = this.options.clock.setTimeout(() => {
      this.retry = null;
      if (this.state === 'running') this.open();
    }, delay);
  }

  private ignore(reason: LineRejection, line: string): void {
    this.options.ignoredLines?.inc({ reader: this.id, reason });
    const sample = line.length > 120 ? `${line.slice(0, 120)}…` : line;
    // A wrong format, delimiter or baud rate spoils every line: say so once at warn, then at debug.
    if (this.warned.has(reason)) return void this.log.debug({ reason, line: sample }, 'line ignored');
    this.warned.add(reason);
    this.log.warn({ reason, line: sample }, 'line ignored (further ones of this kind at debug)');
  }

  private stopRounds(): void {
    this.rounds?.cancel();
    this.rounds = null;
  }

  private setConnected(connected: boolean, error?: string): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.emit('status', connected || error === undefined ? { connected } : { connected, error });
  }
}

/**
 * serialport loads its native binding on import; loaded only when a serial reader starts, so a
 * gateway with LLRP readers alone never depends on it.
 */
async function loadSerialPort(): Promise<OpenPort> {
  const { SerialPort } = await import('serialport');
  return (settings) => new SerialPort(settings);
}
