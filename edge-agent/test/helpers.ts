/** Real things for tests: temp dirs, an aedes broker on port 0, an MQTT subscriber that records. */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { isPwError, type FieldError } from '@pledgewatch/common';
import { checkEdgeConfig } from '../src/config.ts';

export const silentLogger = (): Logger => pino({ level: 'silent' });

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'pw-edge-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Deterministic [0, 1) source (mulberry32), so simulated misses repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestBroker {
  url: string;
  broker: Aedes;
  /** Connected clients by client id: lets a test cut a gateway's connection like a network failure. */
  clients: Map<string, Client>;
  close: () => Promise<void>;
}

/** An aedes broker on a free port that lets in only the given accounts (username → password). */
export async function startBroker(accounts: Record<string, string>): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => {
    if (username !== undefined && accounts[username] !== undefined && password?.toString() === accounts[username]) return done(null, true);
    // 4 = bad username or password (AuthErrorCode is an ambient const enum: not usable under isolatedModules)
    const err: AuthenticateError = Object.assign(new Error('bad username or password'), { returnCode: 4 });
    return done(err, false);
  };
  const clients = new Map<string, Client>();
  broker.on('client', (client) => clients.set(client.id, client));
  broker.on('clientDisconnect', (client) => clients.delete(client.id));
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    clients,
    close: async () => {
      for (const c of clients.values()) c.conn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export interface Received {
  topic: string;
  payload: unknown;
  retain: boolean;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  close: () => Promise<void>;
}

/** Subscribes to `filter` and records every message with its parsed JSON payload. */
export async function record(url: string, credentials: { username: string; password: string }, filter: string): Promise<Recorder> {
  const client = await mqtt.connectAsync(url, { ...credentials, clientId: `rec-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: JSON.parse(payload.toString('utf8')) as unknown, retain: packet.retain });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages, close: () => client.endAsync(true) };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(check: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The errors an edge config is refused with, each naming its key; fails the test when it is accepted. */
export function configErrors(value: unknown): FieldError[] {
  try {
    checkEdgeConfig(value);
  } catch (err) {
    if (isPwError(err, 'VALIDATION')) return err.errors;
    throw err;
  }
  throw new Error('config was accepted');
}
