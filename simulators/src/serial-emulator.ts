/**
 * A line-oriented serial RFID reader, writing to a tty (a pty of a socat pair in tests, or a real
 * serial port): one round of lines every `intervalMs`, a line per tag. Each tag has a fixed antenna
 * and RSSI (derived from its position in the list) so tests know what every line must decode to.
 * If the device goes away it is reopened until it is back, as a reader behind a USB adapter that
 * is unplugged and plugged in again keeps reading.
 *
 * Run it as its own process when the reading end is in the same process: a process writing to a
 * pty it also reads through serialport can deadlock (DEPENDENCIES.md). As a script:
 *   node --import tsx simulators/src/serial-emulator.ts --device PATH --format csv|regex-sample
 *     (--epcs FILE | --count N) [--interval-ms N] [--antennas N] [--garbage-every N] [--baud-rate N]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SerialPort as SerialPortType } from 'serialport';

export const SERIAL_EMULATOR_FORMATS = ['csv', 'regex-sample'] as const;
export type SerialEmulatorFormat = (typeof SERIAL_EMULATOR_FORMATS)[number];

/** The edge-agent `serial.format.pattern` that reads the `regex-sample` lines. */
export const REGEX_SAMPLE_PATTERN = '^#TAG EPC:(?<epc>[0-9A-Fa-f]+) ANT:(?<antenna>\\d+) RSSI:(?<rssi>-?\\d+(?:\\.\\d+)?)$';

export interface SerialEmulatorOptions {
  device: string;
  format: SerialEmulatorFormat;
  epcs: readonly string[];
  /** one round (a line per tag) every … (default 200 ms) */
  intervalMs?: number;
  /** tags are spread over antennas 1..antennas (default 2) */
  antennas?: number;
  /** a malformed line after every N good ones (default 0: none) */
  garbageEvery?: number;
  /** default 115200 (meaningless on a pty, set for a real port) */
  baudRate?: number;
  /** wait before reopening a device that went away (default 100 ms) */
  reopenMs?: number;
}

export interface SerialEmulator {
  /** good lines written so far */
  readonly lines: number;
  readonly garbage: number;
  stop(): Promise<void>;
}

/** What line `index` of the tag list decodes to. */
export function emulatedRead(epcs: readonly string[], index: number, antennas = 2): { epc: string; antenna: number; rssi: number } {
  const epc = epcs[index % epcs.length] ?? '';
  const k = index % epcs.length;
  return { epc: epc.toUpperCase(), antenna: 1 + (k % antennas), rssi: -40 - (k % 30) - 0.5 };
}

export function formatLine(format: SerialEmulatorFormat, read: { epc: string; antenna: number; rssi: number }): string {
  if (format === 'csv') return `${read.epc},${read.antenna},${read.rssi}\r\n`;
  return `#TAG EPC:${read.epc} ANT:${read.antenna} RSSI:${read.rssi}\r\n`;
}

const GARBAGE = ['NOT A TAG LINE\r\n', 'ZZZZ257BF7194E4000001A85,1,-50\r\n', '3034257BF7194E4000001A85,seven,-50\r\n'];

export async function startSerialEmulator(options: SerialEmulatorOptions): Promise<SerialEmulator> {
  if (options.epcs.length === 0) throw new Error('serial emulator: no EPCs to read');
  // Imported here, not at the top: serialport loads a native binding that users of the other simulators never need.
  const { SerialPort } = await import('serialport');
  const intervalMs = options.intervalMs ?? 200;
  const antennas = Math.max(1, options.antennas ?? 2);
  const garbageEvery = options.garbageEvery ?? 0;
  let port: SerialPortType | null = null;
  let stopped = false;
  let lines = 0;
  let garbage = 0;
  let reopen: NodeJS.Timeout | null = null;

  const open = () => {
    if (stopped) return;
    const p = new SerialPort({ path: options.device, baudRate: options.baudRate ?? 115_200, autoOpen: false });
    const retry = () => {
      if (port === p) port = null;
      if (!stopped && reopen === null) reopen = setTimeout(() => ((reopen = null), open()), options.reopenMs ?? 100);
    };
    p.on('error', retry);
    p.on('close', retry);
    p.open((err) => {
      if (err !== null) return retry();
      if (stopped) return p.close();
      port = p;
    });
  };

  const round = () => {
    const p = port;
    // A round is skipped while the last one still waits for the other end, as a reader's buffer
    // would overflow: lines are not queued in memory without end when nobody reads.
    if (p === null || p.writableNeedDrain) return;
    let chunk = '';
    for (let i = 0; i < options.epcs.length; i++) {
      chunk += formatLine(options.format, emulatedRead(options.epcs, i, antennas));
      lines++;
      if (garbageEvery > 0 && lines % garbageEvery === 0) chunk += GARBAGE[garbage++ % GARBAGE.length] ?? '';
    }
    p.write(chunk);
  };

  open();
  const timer = setInterval(round, intervalMs);
  return {
    get lines() {
      return lines;
    },
    get garbage() {
      return garbage;
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      if (reopen !== null) clearTimeout(reopen);
      const p = port;
      port = null;
      // Not drained first: with nobody reading the other end, a drain would wait for ever.
      if (p?.isOpen === true) await new Promise<void>((resolve) => p.close(() => resolve()));
    },
  };
}

function readEpcs(file: string | undefined, count: string | undefined): string[] {
  if (file !== undefined) {
    return readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  }
  const n = Number(count ?? '10');
  if (!Number.isInteger(n) || n < 1) throw new Error(`--count must be a positive integer, got "${count}"`);
  return Array.from({ length: n }, (_, i) => `3034257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      device: { type: 'string' },
      format: { type: 'string', default: 'csv' },
      epcs: { type: 'string' },
      count: { type: 'string' },
      'interval-ms': { type: 'string' },
      antennas: { type: 'string' },
      'garbage-every': { type: 'string' },
      'baud-rate': { type: 'string' },
    },
  });
  if (values.device === undefined) throw new Error('--device PATH is required');
  const format = values.format as SerialEmulatorFormat;
  if (!SERIAL_EMULATOR_FORMATS.includes(format)) throw new Error(`--format must be one of ${SERIAL_EMULATOR_FORMATS.join(', ')}`);
  const emulator = await startSerialEmulator({
    device: values.device,
    format,
    epcs: readEpcs(values.epcs, values.count),
    intervalMs: positive('interval-ms', values['interval-ms'], 200),
    antennas: positive('antennas', values.antennas, 2),
    garbageEvery: positive('garbage-every', values['garbage-every'], 0),
    baudRate: positive('baud-rate', values['baud-rate'], 115_200),
  });
  process.stdout.write('serial emulator running\n');
  // Once stopped, no timer or port is left and the process ends by itself with code 0.
  const stop = () => void emulator.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`serial-emulator: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
