/**
 * Delivers the event outbox to lenders' endpoints, at least once, with the same webhook-id on every
 * attempt. Each pump: fan new events out to deliveries, claim what is due (leased, so a crash hands
 * it to the next run), send with a per-endpoint concurrency limit, record every attempt. Events of
 * one pledge reach an endpoint in order (the store hands out only the first in line), and a slow
 * endpoint only holds up its own deliveries.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type Timer } from '@pledgewatch/common';
import type { Delivery, NewDelivery, WebhookEndpoint, WebhookStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Agent } from 'undici';
import { attemptDelivery, deliveryAgent } from './attempt.ts';
import { nextDelayMs, outcomeOf } from './schedule.ts';
import { webhookHeaders } from './signing.ts';
import type { AddressGuard } from './ssrf.ts';

/** An event as the outbox keeps it; `seq` orders the outbox. */
export interface OutboxEvent {
  seq: number;
  id: string;
  tenant: string;
  type: string;
  pledgeId: string | null;
  data: unknown;
  createdAt: string;
}

export interface EventFeed {
  eventsAfter(seq: number, limit: number): Promise<OutboxEvent[]>;
}

export interface DispatcherOptions {
  store: WebhookStore;
  feed: EventFeed;
  guard: AddressGuard;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  random?: () => number;
  concurrencyPerEndpoint?: number;
  pollMs?: number;
  leaseMs?: number;
  timeoutMs?: number;
  /**
   * This is the only dispatcher on its store (the embedded default): at start, leases left by a
   * crashed run are ended at once instead of waiting out their lease.
   */
  exclusive?: boolean;
}

const BATCH = 200;

export class Dispatcher {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly agent: Agent;
  private readonly concurrency: number;
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, Delivery[]>();
  private readonly running = new Set<Promise<void>>();
  private readonly delivered: Counter<'outcome'>;
  private readonly latency: Histogram;
  private endpoints = new Map<string, WebhookEndpoint>();
  private timer: Timer | undefined;
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger.child({ component: 'webhooks' });
    this.agent = deliveryAgent(opts.guard);
    this.concurrency = opts.concurrencyPerEndpoint ?? 4;
    this.delivered = new Counter({
      name: 'pw_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome (delivered, retry, failed, disabled)',
      labelNames: ['outcome'],
      registers: [opts.registry],
    });
    this.latency = new Histogram({
      name: 'pw_webhook_attempt_seconds',
      help: 'Duration of webhook delivery attempts',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: [opts.registry],
    });
  }

  start(): void {
    if (this.opts.exclusive !== true) return this.notify();
    this.opts.store.releaseLeases().then(
      (n) => {
        if (n > 0) this.log.info({ deliveries: n }, 'resuming deliveries a previous run left in flight');
        this.notify();
      },
      (err: unknown) => {
        this.log.error({ err }, 'cannot release old leases; they will expire');
        this.notify();
      },
    );
  }

  /** Something was written to the outbox (or a delivery became due): pump now rather than at the next poll. */
  notify(): void {
    if (this.stopped) return;
    if (this.pumping !== null) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => this.log.error({ err }, 'webhook pump failed'))
      .finally(() => {
        this.pumping = null;
        if (this.again) {
          this.again = false;
          this.notify();
        } else this.sleep();
      });
  }

  /** Stops taking new work and waits for the attempts in flight (their leases protect the rest). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.pumping;
    await Promise.all(this.running);
    await this.agent.close();
  }

  private sleep(): void {
    this.timer?.cancel();
    const poll = this.opts.pollMs ?? 250;
    const schedule = (due: number | null) => {
      if (this.stopped) return;
      const wait = due === null ? poll : Math.max(0, Math.min(poll, due - this.clock.now()));
      this.timer = this.clock.setTimeout(() => this.notify(), wait);
    };
    this.opts.store.nextDueAt().then(schedule, (err: unknown) => {
      this.log.error({ err }, 'cannot read the next due delivery; polling');
      schedule(null);
    });
  }

  private async pump(): Promise<void> {
    this.endpoints = new Map((await this.opts.store.activeEndpoints()).map((e) => [e.id, e]));
    await this.fanOut();
    const claimed = await this.opts.store.claimDue(this.clock.now(), this.opts.leaseMs ?? 120_000, BATCH);
    for (const d of claimed) this.enqueue(d);
  }

  private async fanOut(): Promise<void> {
    for (;;) {
      const cursor = await this.opts.store.fanOutCursor();
      const events = await this.opts.feed.eventsAfter(cursor, BATCH);
      if (events.length === 0) return;
      const deliveries: NewDelivery[] = [];
      for (const e of events) {
        const body = JSON.stringify({ type: e.type, timestamp: e.createdAt, data: e.data });
        for (const ep of this.endpoints.values()) {
          if (ep.tenant !== e.tenant || ep.createdAt > e.createdAt) continue;
          if (ep.events.length > 0 && !ep.events.includes(e.type)) continue;
          deliveries.push({
            id: `dlv_${randomBytes(12).toString('base64url')}`,
            endpointId: ep.id,
            tenant: e.tenant,
            eventId: e.id,
            eventType: e.type,
            orderingKey: e.pledgeId ?? e.id,
            body,
            createdAt: e.createdAt,
          });
        }
      }
      await this.opts.store.fanOut(deliveries, (events.at(-1) as OutboxEvent).seq, this.clock.now());
      if (events.length < BATCH) return;
    }
  }

  private enqueue(d: Delivery): void {
    const busy = this.inFlight.get(d.endpointId) ?? 0;
    if (busy >= this.concurrency) {
      const queue = this.waiting.get(d.endpointId) ?? [];
      queue.push(d);
      this.waiting.set(d.endpointId, queue);
      return;
    }
    this.inFlight.set(d.endpointId, busy + 1);
    const run = this.attempt(d)
      .catch((err: unknown) => this.log.error({ err, deliveryId: d.id }, 'delivery attempt could not be recorded; its lease will expire'))
      .finally(() => {
      this.running.delete(run);
      this.inFlight.set(d.endpointId, (this.inFlight.get(d.endpointId) ?? 1) - 1);
      const next = this.waiting.get(d.endpointId)?.shift();
      if (next !== undefined && !this.stopped) this.enqueue(next);
      else this.notify(); // its successor in line may be due now
    });
    this.running.add(run);
  }

  private async attempt(d: Delivery): Promise<void> {
    const now = this.clock.now();
    const endpoint = this.endpoints.get(d.endpointId);
    if (endpoint === undefined) return; // deleted or disabled meanwhile: its deliveries were failed with it
    const secrets = endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);
    const headers = webhookHeaders(secrets, d.eventId, Math.floor(now / 1000), d.body);
    const result = await attemptDelivery(this.agent, endpoint.url, headers, d.body, {
      now: () => this.clock.now(),
      ...(this.opts.timeoutMs === undefined ? {} : { timeoutMs: this.opts.timeoutMs }),
    });
    this.latency.observe(result.latencyMs / 1000);
    const outcome = outcomeOf(result.status, result.retryAfterMs);
    const attempt = { at: new Date(now).toISOString(), statusCode: result.status, latencyMs: result.latencyMs, error: result.error ?? null };
    const done = this.clock.now();
    if (outcome.kind === 'delivered') {
      this.delivered.inc({ outcome: 'delivered' });
      await this.opts.store.recordAttempt({ deliveryId: d.id, attempt, status: 'delivered', nextAttemptAt: null }, done);
    } else if (outcome.kind === 'disable') {
      this.delivered.inc({ outcome: 'disabled' });
      this.log.warn({ endpointId: d.endpointId, url: endpoint.url }, 'endpoint answered 410 Gone: disabled');
      // Its other deliveries are failed with it in the store; the ones waiting here must not go out.
      this.endpoints.delete(d.endpointId);
      this.waiting.delete(d.endpointId);
      await this.opts.store.recordAttempt(
        { deliveryId: d.id, attempt, status: 'failed', nextAttemptAt: null, disableEndpoint: '410 Gone from the receiver' },
        done,
      );
    } else {
      const delay = nextDelayMs(d.attempts + 1, this.random, outcome.retryAfterMs);
      this.delivered.inc({ outcome: delay === null ? 'failed' : 'retry' });
      if (delay === null) this.log.warn({ deliveryId: d.id, endpointId: d.endpointId }, 'delivery failed after the whole retry schedule');
      await this.opts.store.recordAttempt(
        { deliveryId: d.id, attempt, status: delay === null ? 'failed' : 'pending', nextAttemptAt: delay === null ? null : done + delay },
        done,
      );
    }
  }
}
