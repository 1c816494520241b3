/**
 * Runs the rules and the alert lifecycle inside ingest. The story of each entry point:
 * - a batch: apply it to live state and stage its telemetry, evaluate the pledges it touches, and hand
 *   the resulting alert changes to the caller, who commits them with the batch's log entry; only then do
 *   facts and alert tracking take the changes in (a batch that does not commit is taken back out);
 * - a gateway status, a tick (confirmation delays, holds, silence, prices ageing into staleness), a
 *   price, FX rate or pledge change: evaluate, write the changes in a transaction of their own, take them in.
 * Valuation is part of every look (see valuation/valuations.ts): the LTV and price alerts go through the
 * same lifecycle, and a change of the pledge's published status commits with the alert changes.
 * Everything runs one at a time (a promise chain), so no two evaluations ever see the same tracked
 * state. Open alerts are loaded at start and re-read every few seconds, which is how ingest learns
 * that a person acknowledged or resolved one.
 */
import { randomUUID } from 'node:crypto';
import {
  ALERT_TYPES,
  isoTime,
  VALUATION_ALERT_TYPES,
  type AlertChange,
  type AlertType,
  type Clock,
  type EventOf,
  type FxRate,
  type GatewayStatusMessage,
  type Pledge,
  type PriceRecord,
  type StatusChange,
  type UplinkEvent,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { LiveState } from '../domain/live-state.ts';
import type { BatchWork } from '../domain/work.ts';
import { evaluateRules } from '../rules/index.ts';
import type { RuleConfig } from '../rules/config.ts';
import type { ValuationFact } from '../rules/types.ts';
import { PledgeValuations, statusChange } from '../valuation/valuations.ts';
import { Facts } from './facts.ts';
import { conditionKey, step, trackOpenAlert, type ConditionKey, type Step, type Tracked } from './lifecycle.ts';
import type { AlertMetrics } from './metrics.ts';
import { liveView, pledgeFacts, type StateView, type ViewContext } from './view.ts';

/** How often open alerts are re-read from the store (acknowledged or resolved by a person meanwhile). */
const SYNC_MS = 5_000;

interface Planned {
  key: string;
  step: Step;
}

/** What one look decided: alert steps, and each pledge's valuation (with the status it publishes). */
interface Plan {
  steps: Planned[];
  valued: { pledge: Pledge; fact: ValuationFact; change: StatusChange | null }[];
}

const NOTHING: Plan = { steps: [], valued: [] };

/** What the caller does for a batch, in the engine's turn (see AlertEngine.onBatch). */
export interface BatchSteps {
  /** Puts the batch into live state. */
  apply(): void;
  /** Logs the batch with these alert and status changes (or stages it for its group, group-commit.ts); false when it was logged before. */
  commit(changes: AlertChange[], statuses: StatusChange[]): Promise<boolean>;
  /** The batch is written: queue it for the checkpoint, tell other shards. */
  committed(): void;
}
const VALUATION_TYPES: ReadonlySet<AlertType> = new Set(VALUATION_ALERT_TYPES);

export interface AlertEngineOptions {
  store: StateStore;
  live: LiveState;
  clock: Clock;
  log: Logger;
  metrics: AlertMetrics;
  config: RuleConfig;
  /** Whether an open alert's pledge is this ingest's to follow (sharded: not another shard's). */
  mine?: (pledgeId: string) => boolean;
}

export class AlertEngine {
  readonly valuations: PledgeValuations;
  private readonly tracked = new Map<string, Tracked>();
  private readonly byPledge = new Map<string, Set<string>>();
  private readonly facts: Facts;
  private readonly view: ViewContext;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSync = -Infinity;
  /** Nothing is evaluated before the open alerts are loaded: it would open them a second time. */
  private loaded = false;

  constructor(private readonly opts: AlertEngineOptions) {
    this.facts = new Facts(opts.config.damage);
    this.valuations = new PledgeValuations(opts.config.valuation);
    this.view = { live: opts.live, facts: this.facts, config: opts.config, valuations: this.valuations, startedAt: opts.clock.now() };
  }

  /** Loads the open alerts, so a restart neither loses nor duplicates them. */
  async load(): Promise<void> {
    await this.exclusive(async () => {
      await this.sync(true);
      this.loaded = true;
    });
  }

  /** Seeds gateway liveness from what the store knows (at start). */
  seedStatus(status: GatewayStatusMessage | null, receivedAt: string | null): void {
    if (status !== null && receivedAt !== null) this.facts.seed(status, Date.parse(receivedAt), this.view.startedAt);
  }

  /** Rebuilds facts from a batch replayed after a crash; its alert changes were committed with it. */
  replay(events: readonly UplinkEvent[], siteId: string): void {
    this.observe(events, siteId);
  }

  /**
   * Applies a batch (`steps.apply` puts its changes into live state through `work`) and evaluates the
   * pledges it touches. `steps.commit` writes the batch with the given alert changes; it returns false
   * for a duplicate, and then, as when anything before it throws, the batch is taken back out of live
   * state and neither the facts nor the alerts change either. Once it is written, the alerts are taken
   * in and `steps.committed` runs, still in this turn.
   */
  onBatch(work: BatchWork, events: readonly UplinkEvent[], steps: BatchSteps): Promise<boolean> {
    return this.exclusive(async () => {
      this.facts.begin();
      let fresh = false;
      try {
        steps.apply();
        this.observe(events, work.gateway.siteId);
        const plan = this.planBatch(work, events);
        fresh = await steps.commit(changesOf(plan), statusesOf(plan));
        if (fresh) {
          this.take(plan);
          steps.committed();
        }
        return fresh;
      } finally {
        if (fresh) this.facts.commit();
        else {
          this.facts.rollback();
          work.undo();
        }
      }
    });
  }

  /**
   * A fault in a rule must not cost the batch its tag state: it is logged, and the batch commits
   * without alert changes (the next tick looks at the pledges again).
   */
  private planBatch(work: BatchWork, events: readonly UplinkEvent[]): Plan {
    if (!this.loaded) return NOTHING;
    try {
      return this.evaluate(this.touched(work, events, work.pledgeIds), liveView(this.opts.live));
    } catch (err) {
      this.opts.log.error({ err, gatewayId: work.gateway.id }, 'rules failed on a batch; it is applied without alert changes');
      return NOTHING;
    }
  }

  /** A gateway status: liveness, reader reports, and the pledges of its site looked at again. */
  onStatus(status: GatewayStatusMessage, siteId: string): Promise<void> {
    return this.exclusive(async () => {
      this.facts.statusSeen(status, this.opts.clock.now());
      await this.write(this.evaluate(this.opts.live.pledgesAtSite(siteId), liveView(this.opts.live)));
    });
  }

  /**
   * Prices and FX rates (from the feed, or the store's, polled): the pledges whose value they change are
   * looked at again now. Before the open alerts are loaded they are only taken in.
   */
  onPrices(prices: readonly PriceRecord[], rates: readonly FxRate[]): Promise<void> {
    return this.exclusive(async () => {
      const changed = this.valuations.prices.takeAll(prices, rates);
      if (!this.loaded || (changed.commodities.size === 0 && changed.currencies.size === 0)) return;
      const affected = [...this.opts.live.pledges.values()].filter(
        (p) => changed.commodities.has(p.commodity) || changed.currencies.has(p.loan.currency),
      );
      await this.write(this.evaluate(affected, liveView(this.opts.live)));
    });
  }

  /** Pledges whose terms changed (a loan drawn or repaid, a release): looked at again now. */
  revalue(pledgeIds: Iterable<string>): Promise<void> {
    return this.exclusive(() => this.lookAgain(pledgeIds));
  }

  /**
   * What another shard saw of this shard's pledges (see shards.ts): tracker positions are taken in
   * and `apply` puts the rest into live state — between two looks, so no batch in flight is evaluated
   * against one state and committed over another — then the pledges it touched are looked at again.
   */
  onRemote(positions: readonly EventOf<'position'>[], apply: () => Iterable<string>): Promise<void> {
    return this.exclusive(async () => {
      const now = this.opts.clock.now();
      const ids = new Set(apply());
      const trackers = new Set<string>();
      for (const e of positions) {
        this.facts.observe(e, '', now, () => []);
        trackers.add(e.trackerId);
      }
      if (trackers.size > 0) for (const p of this.opts.live.pledges.values()) if (p.trackers?.some((t) => trackers.has(t))) ids.add(p.id);
      await this.lookAgain(ids);
    });
  }

  private async lookAgain(pledgeIds: Iterable<string>): Promise<void> {
    if (!this.loaded) return;
    const pledges = [...new Set(pledgeIds)].flatMap((id) => {
      const p = this.opts.live.pledges.get(id);
      return p === undefined ? [] : [p];
    });
    await this.write(this.evaluate(pledges, liveView(this.opts.live)));
  }

  /** The timers: every pledge looked at now (confirmation delays, holds, silence, escalation, stale prices). */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      if (this.opts.clock.now() - this.lastSync >= SYNC_MS) await this.sync(false);
      await this.write(this.evaluate(this.opts.live.pledges.values(), liveView(this.opts.live)));
    });
  }

  /** Resolves when everything queued so far has run. */
  idle(): Promise<void> {
    return this.inTurn(() => undefined);
  }

  /**
   * Runs `look` in the engine's turn, after everything queued so far: live state then holds committed
   * batches only, never one applied but still being written.
   */
  inTurn<T>(look: () => T): Promise<T> {
    return this.exclusive(() => Promise.resolve().then(look));
  }

  /** Alerts open now, by type (for the gauge). */
  openCounts(): Map<AlertType, number> {
    const counts = new Map<AlertType, number>(ALERT_TYPES.map((t) => [t, 0]));
    for (const t of this.tracked.values()) if (t.alert !== null) counts.set(t.type, (counts.get(t.type) ?? 0) + 1);
    return counts;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private observe(events: readonly UplinkEvent[], siteId: string): void {
    const now = this.opts.clock.now();
    const pledgesAt = (site: string) => this.opts.live.pledgesAtSite(site);
    for (const e of events) {
      if (e.type === 'reading' || e.type === 'camera' || e.type === 'position') this.facts.observe(e, siteId, now, pledgesAt);
    }
  }

  /** The pledges a batch may change the conditions of. */
  private touched(work: BatchWork, events: readonly UplinkEvent[], byTags: ReadonlySet<string>): Pledge[] {
    const { live } = this.opts;
    const ids = new Set(byTags);
    const site = work.gateway.siteId;
    const zones = new Set<string>();
    const sensors = new Set<string>();
    const trackers = new Set<string>();
    for (const e of events) {
      if (e.type === 'reading') {
        zones.add(e.zone);
        sensors.add(e.sensorId);
      } else if (e.type === 'camera') zones.add(e.zone);
      else if (e.type === 'position') trackers.add(e.trackerId);
    }
    if (work.changesReaders || zones.size > 0 || sensors.size > 0) {
      for (const p of live.pledgesAtSite(site)) {
        const byZone = p.zones.some((z) => zones.has(z));
        if (work.changesReaders || byZone || p.scales.some((s) => sensors.has(s.sensorId))) ids.add(p.id);
      }
    }
    if (trackers.size > 0) for (const p of live.pledges.values()) if (p.trackers?.some((t) => trackers.has(t))) ids.add(p.id);
    return [...ids].flatMap((id) => {
      const p = live.pledges.get(id);
      return p === undefined ? [] : [p];
    });
  }

  private evaluate(pledges: Iterable<Pledge>, view: StateView): Plan {
    if (!this.loaded) return NOTHING;
    const now = this.opts.clock.now();
    const plan: Plan = { steps: [], valued: [] };
    for (const pledge of pledges) {
      const facts = pledgeFacts(this.view, view, pledge, now);
      if (facts === null) continue;
      if (facts.valuation !== null) plan.valued.push({ pledge, fact: facts.valuation, change: statusChange(pledge, facts.valuation, now) });
      const conditions = new Map(evaluateRules(facts).map((c) => [conditionKey({ pledgeId: pledge.id, ...c }), c]));
      const keys = new Set([...conditions.keys(), ...(this.byPledge.get(pledge.id) ?? [])]);
      const steps: Planned[] = [];
      for (const key of keys) {
        const c = conditions.get(key) ?? null;
        const t = this.tracked.get(key);
        const k: ConditionKey = c === null ? (t as Tracked) : { tenant: pledge.tenant, pledgeId: pledge.id, type: c.type, subject: c.subject };
        steps.push({ key, step: step(k, t, c, now, this.opts.config.lifecycle, () => `alr_${randomUUID()}`) });
      }
      // Resolutions first: a step from LTV_WARNING to MARGIN_CALL reaches a webhook as the warning
      // resolved, then the margin call opened, never two open at once.
      plan.steps.push(...steps.filter((p) => p.step.change?.kind === 'resolve'), ...steps.filter((p) => p.step.change?.kind !== 'resolve'));
    }
    return plan;
  }

  private async write(plan: Plan): Promise<void> {
    const changes = changesOf(plan);
    const statuses = statusesOf(plan);
    if (changes.length > 0 || statuses.length > 0) await this.opts.store.applyAlertChanges(changes, statuses);
    this.take(plan);
  }

  /** Takes committed steps in: tracking, published statuses, metrics, logs. */
  private take(plan: Plan): void {
    for (const { pledge, fact, change } of plan.valued) {
      this.valuations.take(pledge.id, fact);
      if (change === null) continue;
      this.opts.metrics.statusChanges.inc({ status: change.status });
      this.opts.log
        .child({ pledgeId: pledge.id })
        .warn({ previousStatus: fact.published, status: change.status, ltv: fact.value.ltv }, 'pledge status changed');
    }
    for (const { key, step: s } of plan.steps) {
      if (s.next === null) this.untrack(key);
      else this.track(key, s.next);
      const change = s.change;
      if (change === null || change.kind === 'update') continue;
      const a = change.alert;
      const log = this.opts.log.child({ pledgeId: a.pledgeId, alertId: a.id });
      if (change.kind === 'open') {
        this.opts.metrics.opened.inc({ type: a.type });
        log.warn({ type: a.type, subject: a.subject, severity: a.severity, summary: a.summary }, 'alert opened');
      } else {
        this.opts.metrics.resolved.inc({ type: a.type });
        log.info({ type: a.type, subject: a.subject }, 'alert resolved');
      }
    }
  }

  /**
   * Brings tracking in line with the store's open alerts: drops what a person resolved, takes in
   * acknowledgements and alerts another process opened.
   */
  private async sync(initial: boolean): Promise<void> {
    const now = this.opts.clock.now();
    this.lastSync = now;
    const mine = this.opts.mine;
    const listed = await this.opts.store.listActiveAlerts(ALERT_TYPES);
    const stored = mine === undefined ? listed : listed.filter((a) => mine(a.pledgeId));
    const byKey = new Map(stored.map((a) => [conditionKey(a), a]));
    for (const [key, t] of this.tracked) {
      if (t.alert === null) continue;
      const a = byKey.get(key);
      if (a === undefined) this.untrack(key);
      else if (a.id !== t.alert.id || a.status !== t.alert.status) this.track(key, { ...t, alert: { ...t.alert, id: a.id, status: a.status, acknowledgedAt: a.acknowledgedAt } });
    }
    for (const [key, a] of byKey) {
      const t = this.tracked.get(key);
      // Valuation alerts resolve as soon as the status steps down (the hysteresis is in the LTV).
      const holdMs = VALUATION_TYPES.has(a.type) ? 0 : this.opts.config.lifecycle.holdMs;
      if (t === undefined || t.alert === null) this.track(key, trackOpenAlert(a, holdMs, now));
    }
    if (initial) this.opts.log.info({ open: stored.length, at: isoTime(now) }, 'open alerts loaded');
  }

  private track(key: string, t: Tracked): void {
    this.tracked.set(key, t);
    let keys = this.byPledge.get(t.pledgeId);
    if (keys === undefined) this.byPledge.set(t.pledgeId, (keys = new Set()));
    keys.add(key);
  }

  private untrack(key: string): void {
    const t = this.tracked.get(key);
    if (t === undefined) return;
    this.tracked.delete(key);
    const keys = this.byPledge.get(t.pledgeId);
    keys?.delete(key);
    if (keys?.size === 0) this.byPledge.delete(t.pledgeId);
  }
}

function changesOf(plan: Plan): AlertChange[] {
  return plan.steps.flatMap((p) => (p.step.change === null ? [] : [p.step.change]));
}

function statusesOf(plan: Plan): StatusChange[] {
  return plan.valued.flatMap((v) => (v.change === null ? [] : [v.change]));
}
