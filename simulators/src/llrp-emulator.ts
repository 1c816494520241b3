/**
 * An LLRP reader on TCP for tests, demos and benches: accepts a client's setup like a real reader
 * (ConnectionAttemptEvent, a *_RESPONSE for every request, KEEPALIVE at the configured period) and,
 * once an ROSpec is started, streams RO_ACCESS_REPORTs for a tag population, each tag missed per
 * round with `missProbability` and read with noisy RSSI. Tags come and go, connections drop and
 * the reader hangs on command. Like most readers it serves one client at a time.
 */
import net from 'node:net';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from '@pledgewatch/common';
import { llrp } from '@pledgewatch/edge-agent';
import { EmulatorSession, type EmulatorContext } from './llrp-emulator-session.ts';

export interface LlrpEmulatorOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 5084; 0 picks a free port */
  port?: number;
  /** antenna → EPCs (hex) in its field at start */
  tags?: ReadonlyMap<number, readonly string[]> | Readonly<Record<string, readonly string[]>>;
  /** one inventory round, and its reports, every … (default 1000 ms) */
  reportEveryMs?: number;
  /** chance that a tag goes unread in a round (default 0) */
  missProbability?: number;
  /** mean peak RSSI in dBm (default -55) */
  rssi?: number;
  /** RSSI varies uniformly by ± this many dB (default 3) */
  rssiNoise?: number;
  /** TagReportData per RO_ACCESS_REPORT (default 50): a round of many tags is many frames */
  tagsPerReport?: number;
  /** antennas the reader says it has (default 4) */
  antennaCount?: number;
  /** send KEEPALIVE at this period whatever the client's KeepaliveSpec asks (default: as asked) */
  keepaliveMs?: number;
  /** honour a client's request for End_Of_AISpec events (default true); false acts like readers without them */
  aiSpecEvents?: boolean;
  clock?: Clock;
  /** uniform [0, 1) source for misses and RSSI noise */
  random?: () => number;
  logger?: Logger;
}

export interface LlrpEmulatorStats {
  /** connections accepted so far */
  connections: number;
  /** clients connected now (the one served, plus any being refused) */
  clients: number;
  /** messages received, by LLRP message name */
  received: Record<string, number>;
  reports: number;
  tagReports: number;
  keepalives: number;
}

export interface LlrpEmulator {
  readonly port: number;
  addTags(antenna: number, epcs: readonly string[]): void;
  /** takes tags out of every antenna's field */
  removeTags(epcs: readonly string[]): void;
  /** cuts every client connection, as a reader reboot or a pulled cable would */
  dropConnections(): void;
  /** a hung reader: connections stay open but nothing is answered or sent */
  setSilent(silent: boolean): void;
  /** answers the next `times` requests of this type with an error LLRPStatus */
  failNext(message: llrp.MessageName, times?: number): void;
  /** runs one inventory round on every connection now */
  inventoryRound(): void;
  stats(): LlrpEmulatorStats;
  close(): Promise<void>;
}

export async function startLlrpEmulator(options: LlrpEmulatorOptions = {}): Promise<LlrpEmulator> {
  const population = new Map<number, Set<string>>();
  const failures = new Map<number, number>();
  const sessions = new Set<EmulatorSession>();
  const sockets = new Set<net.Socket>();
  const stats: Omit<LlrpEmulatorStats, 'clients'> = { connections: 0, received: {}, reports: 0, tagReports: 0, keepalives: 0 };
  let silent = false;

  const addTags = (antenna: number, epcs: readonly string[]) => {
    let field = population.get(antenna);
    if (field === undefined) population.set(antenna, (field = new Set()));
    for (const epc of epcs) field.add(epc.toUpperCase());
  };
  const tags = options.tags ?? {};
  const initial: [number | string, readonly string[]][] =
    tags instanceof Map ? [...(tags as ReadonlyMap<number, readonly string[]>)] : Object.entries(tags as Readonly<Record<string, readonly string[]>>);
  for (const [antenna, epcs] of initial) addTags(Number(antenna), epcs);

  const ctx: EmulatorContext = {
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    log: (options.logger ?? pino({ level: 'silent' })).child({ component: 'llrp-emulator' }),
    reportEveryMs: options.reportEveryMs ?? 1000,
    missProbability: options.missProbability ?? 0,
    rssi: options.rssi ?? -55,
    rssiNoise: options.rssiNoise ?? 3,
    tagsPerReport: Math.max(1, options.tagsPerReport ?? 50),
    antennaCount: options.antennaCount ?? 4,
    ...(options.keepaliveMs === undefined ? {} : { keepaliveMs: options.keepaliveMs }),
    aiSpecEvents: options.aiSpecEvents ?? true,
    population,
    silent: () => silent,
    takeFailure: (type) => {
      const left = failures.get(type) ?? 0;
      if (left > 0) failures.set(type, left - 1);
      return left > 0;
    },
    count: (what, n = 1) => {
      if (what === 'reports' || what === 'tagReports' || what === 'keepalives') stats[what] += n;
      else stats.received[what] = (stats.received[what] ?? 0) + n;
    },
  };

  const server = net.createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session: EmulatorSession = new EmulatorSession(socket, ctx, () => sessions.delete(session));
    if (silent) return void sessions.add(session);
    // A reader holds one client connection; a second one is told so and closed.
    const busy = sessions.size > 0;
    if (!busy) sessions.add(session);
    session.greet(busy ? 2 : 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? llrp.LLRP_PORT, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  ctx.log.info({ port }, 'LLRP emulator listening');

  return {
    port,
    addTags,
    removeTags: (epcs) => {
      for (const field of population.values()) for (const epc of epcs) field.delete(epc.toUpperCase());
    },
    dropConnections: () => {
      for (const s of [...sessions]) s.close();
    },
    setSilent: (value) => {
      silent = value;
    },
    failNext: (message, times = 1) => {
      const type = llrp.MessageType[message];
      failures.set(type, (failures.get(type) ?? 0) + times);
    },
    inventoryRound: () => {
      for (const s of sessions) s.round();
    },
    stats: () => ({ ...structuredClone(stats), clients: sockets.size }),
    close: async () => {
      for (const s of [...sessions]) s.close();
      // refused and silent clients too, or server.close() would wait for them
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
