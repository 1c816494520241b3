/**
 * A central broker for outage tests: it can be stopped and a new one started on the same gateway
 * port, keeping sessions and queued messages (one aedes persistence handed from broker to broker),
 * as a production broker with a durable store does. The observer, standing in for ingest with its
 * persistent session, has a listener of its own so a test can bring it back before the gateway.
 */
import net from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { Received } from './helpers.ts';

export class CentralBroker {
  private readonly accounts: Record<string, string>;
  private readonly ackDelayMs: number;
  private broker: Aedes | null = null;
  // Typed `any` by aedes (AedesOptions.persistence); kept opaque here.
  private persistence: unknown = undefined;
  private gatewayPort = 0;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  observerUrl = '';
  /** Most event batches held back at once (needs ackDelayMs): what the gateway had unacknowledged. */
  peakEventsInFlight = 0;
  private eventsInFlight = 0;

  private constructor(accounts: Record<string, string>, ackDelayMs: number) {
    this.accounts = accounts;
    this.ackDelayMs = ackDelayMs;
  }

  /**
   * A running broker with both listeners; the gateway port is chosen now and kept across restarts.
   * `ackDelayMs` holds each publish back before the broker takes it (aedes then acks, then
   * forwards), as a loaded broker does, so a cut or a kill finds batches in flight.
   */
  static async create(accounts: Record<string, string>, ackDelayMs = 0): Promise<CentralBroker> {
    const central = new CentralBroker(accounts, ackDelayMs);
    await central.start();
    await central.openGateways();
    return central;
  }

  get gatewayUrl(): string {
    return `mqtt://127.0.0.1:${this.gatewayPort}`;
  }

  /** A new broker on the previous one's persistence, with only the observer listener open. */
  async start(): Promise<void> {
    const broker = await Aedes.createBroker(this.persistence === undefined ? {} : { persistence: this.persistence });
    this.persistence ??= (broker as unknown as { persistence: unknown }).persistence;
    broker.authenticate = (_client, username, password, done) => {
      const expected = username === undefined ? undefined : this.accounts[username];
      if (expected !== undefined && password?.toString() === expected) return done(null, true);
      // 4 = bad username or password (AuthErrorCode is an ambient const enum)
      const err: AuthenticateError = Object.assign(new Error('bad username or password'), { returnCode: 4 });
      return done(err, false);
    };
    if (this.ackDelayMs > 0) broker.authorizePublish = (_client, packet, done) => this.holdBack(packet.topic, () => done(null));
    this.broker = broker;
    this.observerUrl = `mqtt://127.0.0.1:${await this.listen(0)}`;
  }

  async openGateways(): Promise<void> {
    this.gatewayPort = await this.listen(this.gatewayPort);
  }

  /** Stops listening, cuts every connection and closes the broker. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    const broker = this.broker;
    this.broker = null;
    if (broker !== null) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  private holdBack(topic: string, done: () => void): void {
    const events = topic.endsWith('/events');
    if (events) this.peakEventsInFlight = Math.max(this.peakEventsInFlight, ++this.eventsInFlight);
    setTimeout(() => {
      if (events) this.eventsInFlight--;
      done();
    }, this.ackDelayMs);
  }

  private async listen(port: number): Promise<number> {
    const broker = this.broker;
    if (broker === null) throw new Error('broker not started');
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }
}

/** A subscriber with a persistent session that records every message, across reconnects to new brokers. */
export class DurableObserver {
  readonly messages: Received[] = [];
  private readonly options: { username: string; password: string; clientId: string; filter: string };
  private client: MqttClient | null = null;

  constructor(options: { username: string; password: string; clientId: string; filter: string }) {
    this.options = options;
  }

  async connect(url: string): Promise<void> {
    const { username, password, clientId, filter } = this.options;
    const client = mqtt.connect(url, { username, password, clientId, clean: false, reconnectPeriod: 0 });
    this.client = client;
    // Attached before CONNACK: a resumed session delivers its queue right after it.
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: JSON.parse(payload.toString('utf8')) as unknown, retain: packet.retain });
    });
    client.on('error', () => undefined); // a broker that goes away is the point of these tests
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('close', () => reject(new Error(`observer cannot connect to ${url}`)));
    });
    await client.subscribeAsync(filter, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = null;
  }
}
