/**
 * The edge agent: reader drivers → presence → batcher → outbox (seq and batch in edge.db) → uplink,
 * and devices on the local broker → the same batcher. Building it does no I/O; start() opens
 * edge.db, restores the present tags, listens, connects and starts the readers; stop() is the
 * SIGTERM path.
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { systemClock, type Clock, type GatewayStatusMessage, type Timer, type UplinkEvent } from '@pledgewatch/common';
import pkg from '../package.json' with { type: 'json' };
import { Batcher } from './batcher.ts';
import type { EdgeConfig } from './config.ts';
import { LocalBroker } from './local-broker/broker.ts';
import { edgeMetrics, type EdgeMetrics } from './metrics.ts';
import { MetricsServer } from './metrics-server.ts';
import type { Outbox } from './outbox/outbox.ts';
import { SqliteOutbox } from './outbox/sqlite.ts';
import { SqlitePresenceStore, type PresenceStore } from './presence-store.ts';
import { PresenceTracker, type IgnoredRead } from './presence.ts';
import type { ReaderDriver } from './readers/driver.ts';
import { createReaderDriver } from './readers/factory.ts';
import { SimulatedReader } from './readers/simulated.ts';
import { Uplink } from './uplink.ts';

export const AGENT_VERSION: string = pkg.version;

export interface EdgeAgentOptions {
  config: EdgeConfig;
  logger: Logger;
  clock?: Clock;
  /** Where the agent's metrics go; a fresh registry when omitted. */
  registry?: Registry;
  /** Uniform [0, 1) source for simulated readers' missed reads. */
  random?: () => number;
  /** Batches unacknowledged by the broker at most (default 16). */
  maxInFlight?: number;
  /** Bound of each stop step: drain, final status, disconnect (default 5000 ms). */
  stopTimeoutMs?: number;
  /** How often the present tags are saved to edge.db (default 5000 ms); also at stop. */
  presenceSaveIntervalMs?: number;
}

export class EdgeAgent {
  readonly config: EdgeConfig;
  readonly registry: Registry;
  readonly metrics: EdgeMetrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly drivers = new Map<string, ReaderDriver>();
  private readonly presence: PresenceTracker;
  private readonly presenceStore: PresenceStore;
  private readonly presenceSaveIntervalMs: number;
  private presenceSaver: Timer | null = null;
  private readonly localBroker: LocalBroker | null;
  /** Device messages waiting for the batch they are in to be stored (QoS 1 acks wait on it). */
  private readonly awaitingStore: ((err: Error | null) => void)[] = [];
  private readonly metricsServer: MetricsServer | null;
  private readonly batcher: Batcher;
  private readonly outbox: Outbox;
  private readonly uplink: Uplink;
  private readonly warned = new Set<string>();
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: EdgeAgentOptions) {
    const { config } = options;
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.config = config;
    this.log = options.logger.child({ gatewayId: config.gatewayId });
    this.registry = options.registry ?? new Registry();
    this.outbox = new SqliteOutbox({
      dataDir: config.dataDir,
      maxBytes: config.outbox.maxBytes,
      maxAgeMs: config.outbox.maxAgeS * 1000,
      clock,
      logger: this.log,
    });
    this.metrics = edgeMetrics(this.registry, {
      depth: () => this.outbox.depth,
      readers: () => this.presence.health(),
      tagsPresent: () => this.presence.size,
      localClients: () => this.localBroker?.clients ?? 0,
    });
    this.presence = new PresenceTracker({
      readers: config.readers,
      absenceTimeoutMs: config.presence.absenceTimeoutS * 1000,
      snapshotIntervalMs: config.presence.snapshotIntervalS * 1000,
      clock,
    });
    this.presenceStore = new SqlitePresenceStore({ dataDir: config.dataDir });
    this.presenceSaveIntervalMs = options.presenceSaveIntervalMs ?? 5000;
    this.batcher = new Batcher({ ...config.batch, clock, onBatch: (events) => this.enqueue(events) });
    this.localBroker =
      config.localBroker === undefined
        ? null
        : new LocalBroker({
            config: config.localBroker,
            clock,
            logger: this.log,
            metrics: { rejected: this.metrics.localRejected, messages: this.metrics.localMessages },
            accept: (event, stored) => {
              this.awaitingStore.push(stored);
              this.batcher.add(event);
            },
          });
    this.metricsServer =
      config.metrics === undefined
        ? null
        : new MetricsServer({ settings: config.metrics, registry: this.registry, health: () => this.status(), logger: this.log });
    this.uplink = new Uplink({
      gatewayId: config.gatewayId,
      uplink: config.uplink,
      heartbeatIntervalMs: config.heartbeatIntervalS * 1000,
      maxInFlight: options.maxInFlight ?? 16,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
      agentVersion: AGENT_VERSION,
      outbox: this.outbox,
      readers: () => this.presence.health(),
      clock,
      logger: this.log,
    });
    this.outbox.on('dropped', (drop) => {
      this.metrics.dropped.inc(drop.events);
      this.log.warn({ ...drop, depth: this.outbox.depth }, 'outbox bound reached; dropped oldest events');
    });
    this.presence.on('event', (event) => this.batcher.add(event));
    this.presence.on('ignored', (ignored) => this.onIgnored(ignored));
    this.uplink.on('connected', () => this.metrics.uplinkConnected.set(1));
    this.uplink.on('disconnected', () => this.metrics.uplinkConnected.set(0));
    this.uplink.on('sent', (batch) => {
      this.metrics.batchesSent.inc();
      for (const event of batch.events) this.metrics.eventsSent.inc({ type: event.type });
    });
    for (const readerConfig of config.readers) {
      const driver = createReaderDriver(readerConfig, clock, options.random, this.log, this.metrics);
      this.drivers.set(readerConfig.id, driver);
      this.wireReader(driver);
    }
  }

  /** Starts once; a restart is a new agent on the same dataDir (as after a reboot). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`edge agent already ${this.state}`);
    this.state = 'running';
    try {
      this.outbox.open();
      this.restorePresence();
      await this.localBroker?.start();
      await this.metricsServer?.start();
      this.uplink.start();
    } catch (err) {
      this.state = 'stopped';
      await this.localBroker?.stop();
      await this.metricsServer?.stop();
      this.presenceStore.close();
      this.outbox.close();
      throw err;
    }
    if (this.outbox.depth > 0) this.log.info({ depth: this.outbox.depth }, 'outbox holds events from before; sending them first');
    this.presence.start();
    this.presenceSaver = this.clock.setInterval(() => this.savePresence(), this.presenceSaveIntervalMs);
    await Promise.all([...this.drivers.values()].map((d) => d.start()));
    this.log.info({ readers: this.drivers.size, version: AGENT_VERSION }, 'edge agent started');
  }

  /** Stops reading, stores the open batch, sends what it can in time, says offline, disconnects, closes edge.db. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    this.presenceSaver?.cancel();
    await Promise.all([...this.drivers.values()].map((d) => d.stop()));
    this.presence.stop();
    // Stored (and QoS 1 devices acknowledged) before the local broker refuses anything more.
    this.batcher.flush();
    await this.localBroker?.stop();
    this.savePresence();
    await this.uplink.stop();
    if (this.outbox.depth > 0) this.log.info({ depth: this.outbox.depth }, 'events not yet sent stay in the outbox for the next start');
    this.presenceStore.close();
    this.outbox.close();
    await this.metricsServer?.stop();
    this.log.info('edge agent stopped');
  }

  reader(id: string): ReaderDriver {
    const driver = this.drivers.get(id);
    if (driver === undefined) throw new Error(`no reader "${id}" in the config`);
    return driver;
  }

  /** The simulated driver of a reader, for demos and tests to move tags and pull plugs. */
  simulatedReader(id: string): SimulatedReader {
    const driver = this.reader(id);
    if (!(driver instanceof SimulatedReader)) throw new Error(`reader "${id}" is not simulated`);
    return driver;
  }

  /** Where devices connect (`mqtt://host:port`), null without a local broker. */
  get localBrokerUrl(): string | null {
    return this.localBroker?.url ?? null;
  }

  /** Where /metrics and /healthz are served (`http://host:port`), null without a metrics block. */
  get metricsUrl(): string | null {
    return this.metricsServer?.url ?? null;
  }

  /** The status the agent would publish now. */
  status(): GatewayStatusMessage {
    return this.uplink.status(this.uplink.connected);
  }

  private wireReader(driver: ReaderDriver): void {
    const readerId = driver.id;
    const log = this.log.child({ readerId });
    const reads = this.metrics.reads.labels(readerId);
    driver.on('read', (read) => {
      reads.inc();
      this.presence.read(readerId, read);
    });
    driver.on('round', (round) => this.presence.round(readerId, round));
    driver.on('status', (status) => {
      if (status.connected) log.info('reader connected');
      else log.warn({ error: status.error }, 'reader disconnected');
      this.presence.status(readerId, status);
    });
  }

  private enqueue(events: UplinkEvent[]): void {
    // Every device message waiting is in this batch: the batcher hands over all it holds.
    const waiting = this.awaitingStore.splice(0);
    try {
      this.outbox.append(events);
    } catch (err) {
      // Not stored means not accepted: nothing could be sent without a durable seq (the outbox counts them as dropped).
      this.metrics.dropped.inc(events.length);
      this.log.error({ err: (err as Error).message, events: events.length }, 'cannot store batch in the outbox; dropped');
      for (const stored of waiting) stored(err as Error);
      return;
    }
    for (const stored of waiting) stored(null);
    this.uplink.pump();
  }

  private restorePresence(): void {
    const { restored, skipped } = this.presence.restore(this.presenceStore.open());
    if (restored > 0) this.log.info({ restored }, 'tags present at the last stop restored; they depart only once their reader has inventoried for the absence timeout');
    if (skipped > 0) this.log.warn({ skipped }, 'saved tags of readers no longer in the config forgotten');
  }

  /** Saves what presence changed; the batch first, so the saved state never runs ahead of the outbox. */
  private savePresence(): void {
    this.batcher.flush();
    try {
      this.presence.saveChanges((changes) => this.presenceStore.save(changes));
    } catch (err) {
      this.metrics.presenceSaveErrors.inc();
      this.log.warn({ err: (err as Error).message }, 'cannot save tag presence yet; will retry');
    }
  }

  private onIgnored(ignored: IgnoredRead): void {
    this.metrics.ignoredReads.inc({ reader: ignored.readerId, reason: ignored.reason });
    // A misplaced antenna reads every round: say so once per antenna, count the rest.
    const key = `${ignored.readerId}/${ignored.antenna}/${ignored.reason}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(ignored, 'read ignored');
  }
}

export function createEdgeAgent(options: EdgeAgentOptions): EdgeAgent {
  return new EdgeAgent(options);
}
