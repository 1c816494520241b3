/**
 * The serial driver on serialport's mock binding and a FakeClock: reopening with backoff, rounds
 * only while the port is open, the silence watchdog, and every refused line counted. The real
 * pseudo-terminal tests are in serial-pty.test.ts.
 */
import { Counter, Registry } from 'prom-client';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@pledgewatch/common';
import { waitFor } from '@pledgewatch/common/testing';
import { checkEdgeConfig, SerialReader, type ReaderEvents, type SerialSettingsConfig } from '../src/index.ts';

const EPC = '3034257BF7194E4000001A85';

function settings(serial: Record<string, unknown>): SerialSettingsConfig {
  const reader = checkEdgeConfig({
    gatewayId: 'gw-1',
    dataDir: '/tmp/unused',
    uplink: { url: 'mqtt://127.0.0.1:1883' },
    readers: [{ id: 'r1', driver: 'serial', antennas: { '1': 'A1' }, serial: { roundMs: 1000, reconnect: { initialMs: 1000, maxMs: 4000 }, ...serial } }],
  }).readers[0];
  if (reader?.driver !== 'serial') throw new Error('not a serial reader');
  return reader.serial;
}

function setup(serial: Record<string, unknown> = {}) {
  const path = `/dev/ttyMOCK${Math.random().toString(16).slice(2, 8)}`;
  const clock = new FakeClock('2026-11-28T20:00:00.000Z');
  const ignoredLines = new Counter({ name: 'pw_edge_ignored_lines_total', help: 'test', labelNames: ['reader', 'reason'], registers: [new Registry()] });
  const ports: SerialPortMock[] = [];
  const reader = new SerialReader({
    id: 'r1',
    settings: settings({ path, ...serial }),
    clock,
    random: () => 0.5,
    ignoredLines,
    openPort: (s) => {
      const port = new SerialPortMock(s);
      ports.push(port);
      return port;
    },
  });
  const seen: { [K in keyof ReaderEvents]: ReaderEvents[K][] } = { read: [], round: [], status: [] };
  reader.on('read', (r) => seen.read.push(r));
  reader.on('round', (r) => seen.round.push(r));
  reader.on('status', (s) => seen.status.push(s));
  const ignored = async () => {
    const counts: Record<string, number> = {};
    for (const v of (await ignoredLines.get()).values) counts[String(v.labels.reason)] = v.value;
    return counts;
  };
  const send = (data: string) => ports.at(-1)?.port?.emitData(Buffer.from(data, 'latin1'));
  return { path, clock, reader, seen, ports, ignored, send };
}

describe('serial reader driver', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    SerialPortMock.binding.reset();
  });

  it('retries opening a missing device with doubling backoff until it appears, then reads lines', async () => {
    const { path, clock, reader, seen, ports, send } = setup();
    stops.push(() => reader.stop());
    await reader.start();
    await waitFor('first open to fail', () => seen.status.length === 1);
    expect(seen.status[0]).toMatchObject({ connected: false, error: expect.stringContaining('does not exist') as unknown });
    // jitter 0.5 → three quarters of each ceiling: 750, 1500, 3000, then capped at 4000 → 3000
    for (const delay of [750, 1500, 3000]) {
      const attempts = ports.length;
      clock.advance(delay - 1);
      expect(ports.length).toBe(attempts);
      clock.advance(1);
      await waitFor(`attempt ${attempts + 1}`, () => ports.length === attempts + 1 && ports.at(-1)?.isOpen === false && ports.at(-1)?.opening === false);
    }
    SerialPortMock.binding.createPort(path);
    clock.advance(3000);
    await waitFor('connected', () => seen.status.at(-1)?.connected === true);
    send(`${EPC},2,-61.5\r\n${EPC.toLowerCase()}\r\n`);
    await waitFor('two reads', () => seen.read.length === 2);
    expect(seen.read).toEqual([
      { epc: EPC, antenna: 2, rssi: -61.5, at: clock.now() },
      { epc: EPC, antenna: 1, at: clock.now() },
    ]);
    expect(seen.status).toEqual([{ connected: false, error: expect.any(String) as unknown }, { connected: true }]);
  });

  it('counts rounds only while the port is open, and reopens a port that closes', async () => {
    const { path, clock, reader, seen, ports } = setup();
    SerialPortMock.binding.createPort(path);
    stops.push(() => reader.stop());
    await reader.start();
    await waitFor('connected', () => seen.status.at(-1)?.connected === true);
    clock.advance(3000);
    expect(seen.round.map((r) => r.at - Date.parse('2026-11-28T20:00:00.000Z'))).toEqual([1000, 2000, 3000]);
    ports[0]?.close();
    await waitFor('disconnected', () => seen.status.at(-1)?.connected === false);
    clock.advance(500);
    expect(seen.round).toHaveLength(3);
    clock.advance(500); // reopen after 750 ms
    await waitFor('reconnected', () => seen.status.at(-1)?.connected === true);
    clock.advance(1000);
    expect(seen.round).toHaveLength(4);
    expect(seen.status.map((s) => s.connected)).toEqual([true, false, true]);
  });

  it('with a silence timeout, takes a quiet open port for a reader that is down, until a line comes', async () => {
    const { path, clock, reader, seen, send } = setup({ silenceTimeoutMs: 3000 });
    SerialPortMock.binding.createPort(path);
    stops.push(() => reader.stop());
    await reader.start();
    await waitFor('connected', () => seen.status.at(-1)?.connected === true);
    clock.advance(2000);
    send('NOISE\r\n'); // any line shows the reader is alive
    await new Promise((r) => setTimeout(r, 20));
    clock.advance(4000);
    expect(seen.round).toHaveLength(4);
    expect(seen.status.at(-1)).toEqual({ connected: false, error: 'no line from the reader for 3000 ms' });
    clock.advance(5000);
    expect(seen.round).toHaveLength(4);
    send(`${EPC}\r\n`);
    await waitFor('back', () => seen.status.at(-1)?.connected === true);
    clock.advance(1000);
    expect(seen.round).toHaveLength(5);
    expect(seen.read).toHaveLength(1);
  });

  it('counts every refused line by reason and carries on, and drops a line that never ends', async () => {
    const { path, reader, seen, ignored, send } = setup();
    SerialPortMock.binding.createPort(path);
    stops.push(() => reader.stop());
    await reader.start();
    await waitFor('connected', () => seen.status.at(-1)?.connected === true);
    // (an empty line never reaches the driver: the stream does not pass on empty chunks)
    send(`\r\n \t\r\nhello\r\nZZZZ,1\r\n${EPC},x\r\n${EPC},1,loud\r\n`);
    send('A'.repeat(3000)); // garbage with no delimiter, as at a wrong baud rate
    send(`\r\n${EPC},3,-50\r\n`);
    await waitFor('the good line', () => seen.read.length === 1);
    expect(seen.read[0]).toMatchObject({ epc: EPC, antenna: 3, rssi: -50 });
    // the 3000 bytes are one too-long line, whatever the chunks they arrived in
    expect(await ignored()).toEqual({ blank: 1, 'bad-epc': 2, 'bad-antenna': 1, 'bad-rssi': 1, 'too-long': 1 });
  });

  it('emits nothing after stop and closes the port', async () => {
    const { path, clock, reader, seen, ports } = setup();
    SerialPortMock.binding.createPort(path);
    await reader.start();
    await waitFor('connected', () => seen.status.at(-1)?.connected === true);
    await reader.stop();
    expect(ports[0]?.isOpen).toBe(false);
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    expect([seen.read.length, seen.round.length, seen.status.length]).toEqual([0, 0, 1]);
    expect(clock.pending()).toBe(0);
  });
});
