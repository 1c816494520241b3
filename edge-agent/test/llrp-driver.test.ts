/**
 * The LLRP driver against the LLRP reader emulator over real TCP sockets on port 0. Time-driven
 * scenarios (bursts, keepalive silence, rounds) share one FakeClock between driver and emulator, so
 * they are exact and fast; reconnection scenarios run on real timers with short backoffs.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock, type Clock } from '@pledgewatch/common';
import { startLlrpEmulator, type LlrpEmulator, type LlrpEmulatorOptions } from '../../simulators/src/llrp-emulator.ts';
import { backoffDelay, LlrpReader, type ReaderConnection, type RoundDone, type TagRead } from '../src/index.ts';
import { seededRandom, waitFor } from './helpers.ts';

const epcs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i.toString(16).toUpperCase().padStart(8, '0')}`);
const A = epcs('3034257BF7194E40', 3);
const B = epcs('30C579D5D4ADB600', 2);

interface Harness {
  emulator: LlrpEmulator;
  driver: LlrpReader;
  reads: TagRead[];
  rounds: RoundDone[];
  statuses: ReaderConnection[];
}

describe('LLRP driver ↔ emulator over TCP', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(opts: {
    emulator?: LlrpEmulatorOptions;
    clock?: Clock;
    antennas?: number[];
    keepaliveMs?: number;
    roundMs?: number;
    reconnect?: { initialMs: number; maxMs: number };
  }): Promise<Harness> {
    const clock = opts.clock ?? systemClock;
    const emulator = await startLlrpEmulator({ port: 0, clock, random: seededRandom(7), ...opts.emulator });
    cleanups.push(() => emulator.close());
    const driver = new LlrpReader({
      id: 'dock',
      settings: {
        host: '127.0.0.1',
        port: emulator.port,
        keepaliveMs: opts.keepaliveMs ?? 1000,
        roundMs: opts.roundMs ?? 1000,
        reconnect: opts.reconnect ?? { initialMs: 20, maxMs: 200 },
      },
      antennas: opts.antennas ?? [1, 2],
      clock,
      random: seededRandom(3),
    });
    cleanups.push(() => driver.stop());
    const h: Harness = { emulator, driver, reads: [], rounds: [], statuses: [] };
    driver.on('read', (r) => h.reads.push(r));
    driver.on('round', (r) => h.rounds.push(r));
    driver.on('status', (s) => h.statuses.push(s));
    await driver.start();
    return h;
  }

  const connectedTimes = (h: Harness) => h.statuses.filter((s) => s.connected).length;

  it('completes the setup handshake, then reads the configured antennas with EPC, antenna and RSSI', async () => {
    const h = await setup({
      emulator: { tags: { '1': A, '2': B, '3': ['3034257BF7194E40FFFFFFFF'] }, reportEveryMs: 30, rssi: -60, rssiNoise: 4, keepaliveMs: 50 },
      roundMs: 30,
    });
    await waitFor(() => connectedTimes(h) === 1, 5000, 'connected');
    await waitFor(() => h.reads.length >= 25 && (h.emulator.stats().received.KEEPALIVE_ACK ?? 0) >= 2, 5000, 'reads and keepalive acks');
    const { received } = h.emulator.stats();
    for (const step of ['GET_READER_CAPABILITIES', 'SET_READER_CONFIG', 'DELETE_ROSPEC', 'ADD_ROSPEC', 'ENABLE_ROSPEC', 'START_ROSPEC']) {
      expect(received[step], step).toBe(1);
    }
    expect(h.statuses).toEqual([{ connected: true }]);
    const seen = new Set(h.reads.map((r) => `${r.antenna}:${r.epc}`));
    // antenna 3 is not in the ROSpec: its tag is never inventoried
    expect([...seen].sort()).toEqual([...A.map((e) => `1:${e}`), ...B.map((e) => `2:${e}`)].sort());
    for (const r of h.reads) {
      expect(r.rssi).toBeGreaterThanOrEqual(-64);
      expect(r.rssi).toBeLessThanOrEqual(-56);
      expect(Math.abs(r.at - Date.now())).toBeLessThan(5000);
    }
    expect(h.rounds.length).toBeGreaterThan(0);
  });

  it('receives a burst of 2,000 tag reports in back-to-back frames without losing one', async () => {
    const clock = new FakeClock('2026-11-28T20:00:00.000Z');
    const many = epcs('3034257BF7194E41', 2000);
    const h = await setup({ clock, emulator: { tags: { '1': many }, tagsPerReport: 7, reportEveryMs: 1000 }, keepaliveMs: 60_000 });
    await waitFor(() => connectedTimes(h) === 1, 5000, 'connected');
    clock.advance(1000);
    await waitFor(() => h.reads.length >= 2000, 10_000, '2000 reads');
    expect(new Set(h.reads.map((r) => r.epc)).size).toBe(2000);
    expect(h.emulator.stats()).toMatchObject({ reports: Math.ceil(2000 / 7), tagReports: 2000 });
    // a round after every report frame: partial rounds are harmless, a missing one is not
    expect(h.rounds.length).toBeGreaterThanOrEqual(Math.ceil(2000 / 7));
    expect(h.reads.every((r) => r.at === clock.now() && r.antenna === 1)).toBe(true);
    clock.advance(1000);
    await waitFor(() => h.reads.length >= 4000, 10_000, 'a second round');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.reads).toHaveLength(4000);
  });

  it('loses nothing when the stream reaches it in tiny pieces (a TCP proxy that re-cuts every write)', async () => {
    const many = epcs('3034257BF7194E42', 300);
    const emulator = await startLlrpEmulator({ port: 0, tags: { '1': many }, tagsPerReport: 13, reportEveryMs: 3_600_000 });
    cleanups.push(() => emulator.close());
    const random = seededRandom(9);
    const proxy = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: emulator.port });
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        upstream.pause();
        void (async () => {
          for (let at = 0; at < chunk.length; ) {
            const n = 1 + Math.floor(random() * 40);
            client.write(chunk.subarray(at, at + n));
            at += n;
            await new Promise((resolve) => setImmediate(resolve));
          }
          upstream.resume();
        })();
      });
      const close = () => (client.destroy(), upstream.destroy());
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => proxy.close(() => resolve())));
    const driver = new LlrpReader({
      id: 'r',
      settings: { host: '127.0.0.1', port: (proxy.address() as net.AddressInfo).port, keepaliveMs: 60_000, roundMs: 1000, reconnect: { initialMs: 10, maxMs: 10 } },
      antennas: [1],
      clock: systemClock,
    });
    cleanups.push(() => driver.stop());
    const reads: TagRead[] = [];
    driver.on('read', (r) => reads.push(r));
    await driver.start();
    await waitFor(() => emulator.stats().received.START_ROSPEC === 1, 5000, 'started');
    emulator.inventoryRound();
    emulator.inventoryRound();
    await waitFor(() => reads.length >= 600, 10_000, 'two rounds of reads');
    expect(reads).toHaveLength(600);
    expect(new Set(reads.map((r) => r.epc)).size).toBe(300);
  });

  it('marks the reader disconnected when the connection drops, then reconnects and reads again', async () => {
    const h = await setup({ emulator: { tags: { '1': A }, reportEveryMs: 20 }, roundMs: 20 });
    await waitFor(() => h.reads.length > 0, 5000, 'first reads');
    h.emulator.dropConnections();
    await waitFor(() => h.statuses.some((s) => !s.connected), 5000, 'disconnected');
    expect(h.statuses[1]).toMatchObject({ connected: false, error: expect.stringMatching(/closed|ECONNRESET/) as unknown });
    const before = h.reads.length;
    await waitFor(() => connectedTimes(h) === 2, 5000, 'reconnected');
    await waitFor(() => h.reads.length > before + 5, 5000, 'reads after reconnect');
    expect(h.emulator.stats().connections).toBe(2);
    expect(h.emulator.stats().received.START_ROSPEC).toBe(2);
  });

  it('marks a reader silent for two keepalive periods disconnected, and recovers when it speaks again', async () => {
    const clock = new FakeClock('2026-11-28T20:00:00.000Z');
    const h = await setup({ clock, emulator: { tags: { '1': A }, reportEveryMs: 3_600_000 }, keepaliveMs: 1000, reconnect: { initialMs: 1000, maxMs: 8000 } });
    await waitFor(() => connectedTimes(h) === 1, 5000, 'connected');
    // Keepalives answered in time keep the session up, whatever the watchdog's phase.
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      await waitFor(() => (h.emulator.stats().received.KEEPALIVE_ACK ?? 0) >= i, 5000, `keepalive ack ${i}`);
    }
    expect(h.statuses).toEqual([{ connected: true }]);
    h.emulator.setSilent(true);
    clock.advance(1999);
    expect(h.statuses).toHaveLength(1);
    clock.advance(1);
    expect(h.statuses[1]).toEqual({ connected: false, error: 'reader silent for 2000 ms (keepalive 1000 ms)' });
    h.emulator.setSilent(false);
    // like a real reader, the emulator refuses a second client until it has seen the first one go
    await waitFor(() => h.emulator.stats().clients === 0, 5000, 'old connection gone');
    clock.advance(1000); // the first retry waits 500..1000 ms
    await waitFor(() => connectedTimes(h) === 2, 5000, 'reconnected');
    expect(h.emulator.stats().connections).toBe(2);
  });

  it('retries with backoff when the reader answers ADD_ROSPEC with an error status', async () => {
    const h = await setup({ emulator: { tags: { '1': A }, reportEveryMs: 20 }, roundMs: 20, reconnect: { initialMs: 20, maxMs: 40 } });
    h.emulator.failNext('ADD_ROSPEC', 2);
    await waitFor(() => connectedTimes(h) === 1, 5000, 'connected after two failures');
    expect(h.statuses[0]).toEqual({ connected: false, error: 'ADD_ROSPEC failed: M_FieldError "emulated failure" (field 0: A_Invalid)' });
    // one disconnected status for both failures: status reports changes only
    expect(h.statuses).toHaveLength(2);
    expect(h.emulator.stats()).toMatchObject({ connections: 3, received: { ADD_ROSPEC: 3, START_ROSPEC: 1 } });
    await waitFor(() => h.reads.length > 0, 5000, 'reads');
  });

  it('emits rounds on End_Of_AISpec events, and on its own timer for readers without them, even with an empty field', async () => {
    // With AISpec events, a driver round timer of a minute never fires in this test: every round is the reader's.
    for (const [aiSpecEvents, roundMs] of [[true, 60_000], [false, 500]] as const) {
      const clock = new FakeClock('2026-11-28T20:00:00.000Z');
      const h = await setup({ clock, emulator: { reportEveryMs: 500, aiSpecEvents }, roundMs, keepaliveMs: 60_000 });
      await waitFor(() => connectedTimes(h) === 1, 5000, 'connected');
      for (let i = 1; i <= 4; i++) {
        clock.advance(500);
        await waitFor(() => h.rounds.length >= i, 5000, `round ${i} (aiSpecEvents ${aiSpecEvents})`);
      }
      expect(h.reads).toEqual([]);
      await h.driver.stop();
    }
  });

  it('times reads by the reader only when its clock agrees with ours', async () => {
    const clock = new FakeClock('2026-11-28T20:00:00.000Z');
    const readerClock = new FakeClock('2026-11-28T21:00:00.000Z');
    const emulator = await startLlrpEmulator({ port: 0, clock: readerClock, tags: { '1': A } });
    cleanups.push(() => emulator.close());
    const driver = new LlrpReader({
      id: 'r',
      settings: { host: '127.0.0.1', port: emulator.port, keepaliveMs: 60_000, roundMs: 1000, reconnect: { initialMs: 10, maxMs: 10 } },
      antennas: [1],
      clock,
    });
    cleanups.push(() => driver.stop());
    const reads: TagRead[] = [];
    driver.on('read', (r) => reads.push(r));
    await driver.start();
    await waitFor(() => emulator.stats().received.START_ROSPEC === 1, 5000, 'started');
    emulator.inventoryRound();
    await waitFor(() => reads.length === 3, 5000, 'reads');
    expect(reads.every((r) => r.at === clock.now())).toBe(true);
    readerClock.advance(-3_600_000 + 1234);
    emulator.inventoryRound();
    await waitFor(() => reads.length === 6, 5000, 'reads');
    expect(reads.slice(3).every((r) => r.at === clock.now() + 1234)).toBe(true);
  });

  it('says goodbye with CLOSE_CONNECTION on stop, and emits nothing after', async () => {
    const h = await setup({ emulator: { tags: { '1': A }, reportEveryMs: 20 }, roundMs: 20 });
    await waitFor(() => h.reads.length > 0, 5000, 'reads');
    await h.driver.stop();
    expect(h.emulator.stats().received.CLOSE_CONNECTION).toBe(1);
    const count = h.reads.length + h.rounds.length + h.statuses.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.reads.length + h.rounds.length + h.statuses.length).toBe(count);
  });

  it('drops a connection whose stream is corrupt and reconnects', async () => {
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.write(Buffer.from('0400000000030000000000', 'hex')); // length 3: no frame is that short
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A connection the driver has not closed yet must not keep the server (and the test) open.
    cleanups.push(() => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
    const driver = new LlrpReader({
      id: 'r',
      settings: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, keepaliveMs: 1000, roundMs: 1000, reconnect: { initialMs: 10, maxMs: 20 } },
      antennas: [1],
      clock: systemClock,
    });
    cleanups.push(() => driver.stop());
    const statuses: ReaderConnection[] = [];
    driver.on('status', (s) => statuses.push(s));
    await driver.start();
    await waitFor(() => connections >= 3, 5000, 'reconnects');
    expect(statuses).toEqual([{ connected: false, error: expect.stringMatching(/declares length 3/) as unknown }]);
  });
});

describe('LLRP reconnect backoff', () => {
  it('doubles from initialMs up to maxMs, with up to half of each delay as jitter', () => {
    const reconnect = { initialMs: 1000, maxMs: 60_000 };
    expect([0, 1, 2, 3, 6, 7, 50].map((n) => backoffDelay(n, reconnect, () => 0))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
    expect([0, 1, 2, 3, 6, 7, 50].map((n) => backoffDelay(n, reconnect, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
    const random = seededRandom(11);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(2, reconnect, random)));
    expect(spread.size).toBeGreaterThan(20);
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...spread)).toBeLessThanOrEqual(4000);
  });
});
