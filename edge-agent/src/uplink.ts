/**
 * The uplink to the central broker (CONTRACT.md §2): numbered batches from the outbox, QoS 1 and in
 * order, and the retained gateway status with a last will. TLS (CA, client certificate) and
 * username/password authenticate the gateway.
 *
 * Ordering: batches are published oldest first with at most `maxInFlight` unacknowledged (a
 * callback per publish is what makes mqtt.js collapse in bursts, DEPENDENCIES.md). With
 * `clean: false` mqtt.js keeps in-flight QoS 1 packets across a dropped connection and resends
 * them before it emits `connect`, so newer batches, published from `connect` on, follow them.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { isoTime, PwError, sendWithoutDelay, topics, type Clock, type GatewayStatusMessage, type Timer, type UplinkBatch } from '@pledgewatch/common';
import type { EdgeConfig } from './config.ts';
import { TypedEmitter } from './events.ts';
import type { Outbox, PendingBatch } from './outbox/outbox.ts';
import type { ReaderHealth } from './presence.ts';

export interface UplinkOptions {
  gatewayId: string;
  uplink: EdgeConfig['uplink'];
  heartbeatIntervalMs: number;
  /** Unacknowledged batches at most; more gives throughput, fewer bounds what a dropped link resends. */
  maxInFlight: number;
  /** How long stop() waits for each step: draining the outbox, the final status, the disconnect. */
  stopTimeoutMs: number;
  agentVersion: string;
  outbox: Outbox;
  readers: () => ReaderHealth[];
  clock: Clock;
  logger: Logger;
}

export interface UplinkEvents {
  connected: { at: number };
  disconnected: { at: number };
  /** The broker acknowledged a batch. */
  sent: PendingBatch;
}

export class Uplink extends TypedEmitter<UplinkEvents> {
  private readonly options: UplinkOptions;
  private readonly log: Logger;
  private client: MqttClient | null = null;
  private online = false;
  private stopping = false;
  private inFlight = 0;
  private heartbeat: Timer | null = null;
  private lastError: string | null = null;

  constructor(options: UplinkOptions) {
    super();
    this.options = options;
    this.log = options.logger;
  }

  get connected(): boolean {
    return this.online;
  }

  /**
   * Connects in the background: the gateway keeps working (and queueing) while the broker is away.
   * Throws only when a TLS file cannot be read, so a wrong path stops the agent at start.
   */
  start(): void {
    if (this.client !== null) return;
    const { uplink, clock, heartbeatIntervalMs } = this.options;
    const clientOptions: IClientOptions = {
      ...readTlsFiles(uplink.tls),
      clientId: uplink.clientId,
      clean: false,
      username: uplink.username,
      password: uplink.password,
      reconnectPeriod: 1000,
      // mqtt-packet's write cache is 65,536 pre-built Buffers (~6 MB of heap) to save allocating a
      // 2-byte packet id; a gateway sends a few batches a second and is short of memory, not time.
      writeCache: false,
      will: this.will(),
    };
    const client = sendWithoutDelay(mqtt.connect(uplink.url, clientOptions));
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    // The will carries `at`; refresh it so a later disconnect is not stamped with the first connect's time.
    client.on('reconnect', () => {
      client.options.will = this.will();
    });
    client.on('error', (err) => this.onError(err));
    this.heartbeat = clock.setInterval(() => {
      if (this.online) this.publishStatus(true);
    }, heartbeatIntervalMs);
  }

  /** Publishes what the outbox holds, oldest first, up to maxInFlight unacknowledged. */
  pump(): void {
    const client = this.client;
    if (client === null || !this.online || this.stopping) return;
    const { outbox, gatewayId, clock, maxInFlight } = this.options;
    while (this.inFlight < maxInFlight) {
      let batch: PendingBatch | undefined;
      try {
        batch = outbox.take();
      } catch (err) {
        // The batches stay stored; the next connect or batch tries again.
        this.log.error({ err: (err as Error).message }, 'cannot read the outbox');
        return;
      }
      if (batch === undefined) return;
      this.inFlight++;
      const envelope: UplinkBatch = { v: 1, gatewayId, seq: batch.seq, sentAt: isoTime(clock.now()), events: batch.events };
      client.publish(topics.events(gatewayId), JSON.stringify(envelope), { qos: 1 }, (err) => {
        this.inFlight--;
        if (err) {
          // Not re-pumped here: the next connect or batch retries, so a failing client cannot spin.
          outbox.release(batch.seq);
          this.log[this.stopping ? 'debug' : 'warn']({ seq: batch.seq, err: err.message }, 'batch publish failed; will retry');
          return;
        }
        outbox.ack(batch.seq);
        this.emit('sent', batch);
        this.pump();
      });
    }
  }

  /**
   * The clean-stop path: drain the outbox while connected, publish the offline status explicitly
   * (a clean DISCONNECT discards the last will), then disconnect. Each step is bounded by stopTimeoutMs.
   */
  async stop(): Promise<void> {
    this.heartbeat?.cancel();
    this.heartbeat = null;
    const client = this.client;
    if (client === null) return;
    const { stopTimeoutMs } = this.options;
    let graceful = false;
    if (this.online) {
      const drained = await this.waitUntilDrained(stopTimeoutMs);
      if (!drained) this.log.warn({ depth: this.options.outbox.depth }, 'stopping with batches not yet acknowledged');
      this.stopping = true;
      const status = JSON.stringify(this.status(false));
      const topic = topics.status(this.options.gatewayId);
      const statusSent = await this.within(client.publishAsync(topic, status, { qos: 1, retain: true }), stopTimeoutMs, 'final status');
      // A non-forced end waits for every unacknowledged packet, possibly forever: only when none is left.
      graceful = drained && statusSent;
    }
    this.stopping = true;
    await this.within(client.endAsync(!graceful), stopTimeoutMs, 'disconnect');
    this.client = null;
    this.online = false;
  }

  status(online: boolean): GatewayStatusMessage {
    const { gatewayId, agentVersion, outbox, clock } = this.options;
    return {
      v: 1,
      gatewayId,
      online,
      at: isoTime(clock.now()),
      agentVersion,
      readers: this.options.readers().map((r) => ({
        readerId: r.readerId,
        connected: r.connected,
        lastReadAt: r.lastReadAt === null ? null : isoTime(r.lastReadAt),
      })),
      outbox: { depth: outbox.depth, dropped: outbox.dropped },
    };
  }

  private will(): NonNullable<IClientOptions['will']> {
    const payload = JSON.stringify(this.status(false));
    return { topic: topics.status(this.options.gatewayId), payload, qos: 1, retain: true };
  }

  private onConnect(): void {
    const at = this.options.clock.now();
    this.online = true;
    this.lastError = null;
    this.log.info({ url: this.options.uplink.url, clientId: this.options.uplink.clientId }, 'uplink connected');
    this.publishStatus(true);
    this.emit('connected', { at });
    this.pump();
  }

  private onClose(): void {
    if (!this.online) return;
    this.online = false;
    if (!this.stopping) this.log.warn({ depth: this.options.outbox.depth }, 'uplink disconnected; queueing');
    this.emit('disconnected', { at: this.options.clock.now() });
  }

  /** Reconnects repeat every second while the broker is away: say each distinct error once. */
  private onError(err: Error): void {
    const level = err.message === this.lastError ? 'debug' : 'warn';
    this.lastError = err.message;
    this.log[level]({ err: err.message }, 'uplink error');
  }

  private publishStatus(online: boolean): void {
    const client = this.client;
    if (client === null) return;
    client.publish(topics.status(this.options.gatewayId), JSON.stringify(this.status(online)), { qos: 1, retain: true }, (err) => {
      if (err) this.log.debug({ err: err.message }, 'status publish failed');
    });
  }

  private waitUntilDrained(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (drained: boolean) => {
        timer.cancel();
        this.off('sent', check);
        resolve(drained);
      };
      const check = () => {
        if (this.options.outbox.depth === 0) finish(true);
      };
      const timer = this.options.clock.setTimeout(() => finish(false), ms);
      this.on('sent', check);
      check();
    });
  }

  /** Awaits `work` for at most `ms`; false (logged) when it failed or timed out. */
  private async within(work: Promise<unknown>, ms: number, what: string): Promise<boolean> {
    let timer: Timer | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve(false), ms);
    });
    try {
      const done = await Promise.race([work.then(() => true as const), timeout]);
      if (!done) this.log.warn({ ms }, `${what} timed out`);
      return done;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, `${what} failed`);
      return false;
    } finally {
      timer?.cancel();
    }
  }
}

type TlsFiles = Pick<IClientOptions, 'ca' | 'cert' | 'key'>;

function readTlsFiles(tls: EdgeConfig['uplink']['tls']): TlsFiles {
  const files: TlsFiles = {};
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = tls?.[key];
    if (path === undefined) continue;
    try {
      files[key] = readFileSync(path);
    } catch (err) {
      const reason = `cannot read ${path}: ${(err as Error).message}`;
      throw new PwError('VALIDATION', `uplink.tls.${key}: ${reason}`, [{ path: `/uplink/tls/${key}`, reason }]);
    }
  }
  return files;
}
