/**
 * The gateway-local MQTT broker (aedes) where sensors, trackers and cameras publish (CONTRACT §1).
 * Nothing subscribes here: the agent takes each message as it is authorized and hands its uplink
 * event on, to the same batcher and outbox as the tag events.
 *
 * A device logs in with its username and password from the config and may publish only to its own
 * topics. MQTT 3.1.1 has no negative PUBACK, so a publish outside them closes the connection (as
 * the central broker does for gateways). A malformed payload on its own topic is acknowledged and
 * dropped instead: a QoS 1 device would otherwise resend the same bad message after every
 * reconnect and never get its good ones through. A good QoS 1 message is acknowledged only once
 * its event is stored in the outbox, so a crash cannot lose what a device was told was taken.
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Clock, UplinkEvent } from '@pledgewatch/common';
import type { DeviceConfig, LocalBrokerConfig } from './config.ts';
import { deviceRoute, toEvent, type RejectReason } from './messages.ts';

export interface LocalBrokerMetrics {
  rejected: Counter<'reason'>;
  messages: Counter<'kind'>;
}

export interface LocalBrokerOptions {
  config: LocalBrokerConfig;
  clock: Clock;
  logger: Logger;
  metrics: LocalBrokerMetrics;
  /** Takes a device's event; `stored` is called once it is in the outbox, or with why it could not be. */
  accept: (event: UplinkEvent, stored: (err: Error | null) => void) => void;
}

// aedes's own enum is `const` in a .d.ts, which isolatedModules cannot inline; the numbers are MQTT's.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
/** Distinct complaints logged at warn before the rest go to debug: a looping device must not flood the log. */
const MAX_WARNINGS = 1000;

export class LocalBroker {
  private readonly options: LocalBrokerOptions;
  private readonly log: Logger;
  private readonly byUsername = new Map<string, { device: DeviceConfig; log: Logger }>();
  private readonly deviceOf = new WeakMap<Client, { device: DeviceConfig; log: Logger }>();
  private readonly warned = new Set<string>();
  private readonly sockets = new Set<net.Socket>();
  private broker: Aedes | null = null;
  private server: net.Server | null = null;
  private closing = false;
  private address = '';

  constructor(options: LocalBrokerOptions) {
    this.options = options;
    this.log = options.logger.child({ component: 'local-broker' });
    for (const device of options.config.devices) {
      this.byUsername.set(device.username, { device, log: this.log.child({ deviceId: device.id, deviceKind: device.kind }) });
    }
  }

  /** `mqtt://host:port` once listening, '' before. */
  get url(): string {
    return this.address;
  }

  /** Devices connected now. */
  get clients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  /** Listens; rejects naming the address when it cannot, so the agent stops at start. */
  async start(): Promise<void> {
    if (this.broker !== null) return;
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, callback) => this.authorizePublish(client, packet, callback),
      authorizeSubscribe: (client, subscription, callback) => {
        this.reject(this.deviceOf.get(client)?.log ?? this.log, 'subscribe', `subscriptions are not offered here (${subscription.topic})`);
        callback(null, null); // SUBACK 0x80: refused, connection kept
      },
    });
    broker.on('clientDisconnect', (client) => this.deviceOf.get(client)?.log.info({ clientId: client.id }, 'device disconnected'));
    broker.on('clientError', (client, err) => this.log.debug({ clientId: client.id, err: err.message }, 'device connection error'));
    broker.on('connectionError', (client, err) => this.log.debug({ clientId: client.id, err: err.message }, 'device connection refused'));
    const { host, port } = this.options.config;
    const server = net.createServer((socket) => {
      // Devices' readings and the agent's subscription are small packets: sent at once (see sendWithoutDelay).
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new Error(`local broker: cannot listen on ${host}:${port}: ${err.message}`)));
        server.listen(port, host, () => resolve());
      });
    } catch (err) {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      throw err;
    }
    server.on('error', (err) => this.log.error({ err: err.message }, 'local broker listener error'));
    this.broker = broker;
    this.server = server;
    const address = server.address() as AddressInfo;
    this.address = `mqtt://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    this.log.info({ url: this.address, devices: this.byUsername.size }, 'local broker listening');
  }

  /** Refuses new messages (devices resend them to the next run), disconnects every device, closes. */
  async stop(): Promise<void> {
    const { broker, server } = this;
    if (broker === null || server === null) return;
    this.closing = true;
    this.broker = null;
    this.server = null;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    // Connections that never logged in are not aedes clients yet; close them too.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info('local broker stopped');
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const entry = username === undefined ? undefined : this.byUsername.get(username);
    // The same answer for an unknown device and a wrong password: nothing to learn by guessing.
    const refuse = (reason: RejectReason, code: number, detail: string) => {
      this.reject(entry?.log ?? this.log, reason, detail, { clientId: client.id, username });
      const err = new Error('bad username or password') as AuthenticateError;
      // returnCode's type is aedes's const enum, which cannot be named here (see above).
      (err as { returnCode: number }).returnCode = code;
      done(err, false);
    };
    if (username === undefined || password === undefined) return refuse('no_credentials', NOT_AUTHORIZED, 'login without username and password');
    if (entry === undefined) return refuse('unknown_device', BAD_USERNAME_OR_PASSWORD, `no device with username "${username}" in the config`);
    if (!samePassword(password, entry.device.password)) return refuse('bad_password', BAD_USERNAME_OR_PASSWORD, 'wrong password');
    this.deviceOf.set(client, entry);
    entry.log.info({ clientId: client.id }, 'device connected');
    done(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    const entry = client === null ? undefined : this.deviceOf.get(client);
    // client null: aedes replaying the will of a client long gone; nothing of a device's to take.
    if (entry === undefined) return callback(new Error('not logged in as a device'));
    if (this.closing) return callback(new Error('agent stopping'));
    const { device, log } = entry;
    const route = deviceRoute(device, packet.topic);
    if ('reason' in route) {
      this.reject(log, route.reason, route.detail, { topic: packet.topic });
      return callback(new Error(route.detail));
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const result = toEvent(route, payload, this.options.clock.now());
    // Nothing subscribes here: a retained copy would only take memory.
    packet.retain = false;
    if (!result.ok) {
      this.reject(log, result.reason, result.detail, { topic: packet.topic });
      return callback(null);
    }
    this.options.metrics.messages.inc({ kind: device.kind });
    if (packet.qos === 0) {
      this.options.accept(result.event, () => undefined);
      return callback(null);
    }
    this.options.accept(result.event, (err) => {
      if (err !== null) this.reject(log, 'not_stored', err.message, { topic: packet.topic });
      // An error closes the connection without PUBACK: the device sends the message again.
      callback(err);
    });
  }

  private reject(log: Logger, reason: RejectReason, detail: string, context: Record<string, unknown> = {}): void {
    this.options.metrics.rejected.inc({ reason });
    const key = `${String(log.bindings().deviceId)}/${reason}/${String(context.username)}`;
    const first = !this.warned.has(key) && this.warned.size < MAX_WARNINGS;
    if (first) this.warned.add(key);
    log[first ? 'warn' : 'debug']({ ...context, reason, detail }, reason === 'malformed' || reason === 'too_large' || reason === 'bad_zone' ? 'device message dropped' : 'device refused');
  }
}

function samePassword(given: Buffer, expected: string): boolean {
  const want = Buffer.from(expected, 'utf8');
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same.
  return given.length === want.length ? timingSafeEqual(given, want) : !timingSafeEqual(want, want);
}
