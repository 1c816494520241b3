/**
 * The ingest service: follows the gateways' MQTT traffic, keeps live pledge state and time series.
 * Messages are handled strictly one after another (the connection acknowledges each only once it
 * is handled), which keeps per-gateway order and makes (gatewayId, seq) dedup race-free.
 */
import { isoTime, systemClock, type Clock } from '@pledgewatch/common';
import type { SeriesStore, StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AlertEngine } from './alerts/engine.ts';
import { alertMetrics } from './alerts/metrics.ts';
import type { BrokerConnection } from './connection.ts';
import { IngestContext } from './context.ts';
import { LiveState } from './domain/live-state.ts';
import { Checkpointer } from './checkpointer.ts';
import { replayBatch } from './handlers/events.ts';
import { dispatch } from './handlers/index.ts';
import { ingestMetrics } from './metrics.ts';
import { ruleConfig, type RuleSettingsT } from './rules/config.ts';

export interface IngestOptions {
  store: StateStore;
  series: SeriesStore;
  connection: BrokerConnection;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** How often to pick up pledges, loan changes, releases, prices and FX rates written by other processes (API instances). */
  pledgeRefreshMs?: number;
  /** How often changed tag and reader state is written to the state store's tables (and quantities sampled). */
  checkpointMs?: number;
  /** Settings of the alert rules (seconds; see rules/config.ts for every key and its default). */
  rules?: RuleSettingsT;
}

export interface Ingest {
  start(): Promise<void>;
  /** Picks up pledges registered or changed, releases, prices and FX rates since the last look (also runs on a timer). */
  refreshPledges(): Promise<void>;
  /** Runs the rules' timers now (confirmation delays, holds, silence), as the tick does. */
  runRules(): Promise<void>;
  isConnected(): boolean;
  stop(): Promise<void>;
}

export function createIngest(opts: IngestOptions): Ingest {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ component: 'ingest' });
  const live = new LiveState();
  const checkpointer = new Checkpointer(opts.store, log);
  // A wrong rule setting stops ingest here, at start, naming the key.
  const rules = ruleConfig(opts.rules ?? {});
  const alerts: AlertEngine = new AlertEngine({
    store: opts.store,
    live,
    clock,
    log: log.child({ component: 'alerts' }),
    metrics: alertMetrics(opts.registry, () => alerts.openCounts()),
    config: rules,
  });
  const ctx = new IngestContext(opts.store, opts.series, live, clock, log, ingestMetrics(opts.registry), checkpointer, alerts);
  let pledgesSeenUntil = '1970-01-01T00:00:00.000Z';
  let releasesSeenUntil = '1970-01-01T00:00:00.000Z';
  let refreshing: Promise<void> = Promise.resolve();
  const timers: { cancel(): void }[] = [];

  // Pledges registered by another process are picked up by polling with an overlapping window, so a
  // registration committed just after a poll started is still seen by the next one.
  const loadPledges = async (): Promise<void> => {
    const startedAt = clock.now();
    // Gateways registered since start: the rules watch their sites' pledges for gaps from now on.
    for (const g of await opts.store.listGateways()) {
      if (!live.gateways.has(g.id)) live.gateways.set(g.id, { id: g.id, siteId: g.siteId, online: g.online });
    }
    const changed = await opts.store.listPledgesChangedSince(pledgesSeenUntil);
    const fresh = changed.filter((p) => JSON.stringify(live.pledges.get(p.id)) !== JSON.stringify(p));
    // A pledge new to this process brings the status last published for it (the LTV hysteresis starts
    // there); for one already known, this process is the one publishing it.
    const statuses = await Promise.all(fresh.map((p) => (live.pledges.has(p.id) ? Promise.resolve(undefined) : opts.store.getPledgeStatus(p.id))));
    fresh.forEach((p, i) => {
      const status = statuses[i];
      if (status !== undefined) alerts.valuations.setPublished(p.id, status);
      live.putPledge(p);
    });
    pledgesSeenUntil = isoTime(startedAt - 5000);
    ctx.touch(fresh.map((p) => p.id));
    // Releases the same way: the rules must honour one as soon as goods may leave under it.
    const releases = await opts.store.listReleasesSince(releasesSeenUntil);
    const released = releases.filter((r) => live.putRelease(r)).map((r) => r.pledgeId);
    ctx.touch(released);
    releasesSeenUntil = isoTime(startedAt - 5000);
    // A loan drawn or repaid (it changes the pledge), a release: revalued now rather than at the next tick.
    await alerts.revalue([...fresh.map((p) => p.id), ...released]);
    // Prices and FX rates posted through the API reach ingest only through the store: few rows, re-read whole.
    const [prices, rates] = await Promise.all([opts.store.listPrices(), opts.store.listFxRates()]);
    await alerts.onPrices(prices, rates);
  };

  const runRules = (): Promise<void> => alerts.tick().catch((err: unknown) => log.error({ err }, 'rule tick failed'));

  /** Persists changed state, then samples the quantities it changed. */
  const checkpoint = async (): Promise<void> => {
    await checkpointer.flush();
    await ctx.sampleQuantities().catch((err: unknown) => log.error({ err }, 'quantity sampling failed'));
  };

  /** Rebuilds the effect of batches logged before a crash but not yet checkpointed. */
  const replayPending = async (): Promise<number> => {
    const pending = await opts.store.pendingBatches();
    for (const b of pending) {
      const gateway = await ctx.gateway(b.gatewayId);
      if (gateway !== null) replayBatch(ctx, gateway, b.payload);
    }
    await checkpointer.flush();
    return pending.length;
  };

  const refreshPledges = (): Promise<void> => {
    refreshing = refreshing.then(loadPledges).catch((err: unknown) => log.error({ err }, 'pledge refresh failed'));
    return refreshing;
  };

  return {
    async start() {
      for (const g of await opts.store.listGateways()) {
        live.gateways.set(g.id, { id: g.id, siteId: g.siteId, online: g.online });
        alerts.seedStatus(g.status, g.lastSeenAt);
      }
      for (const t of await opts.store.listTags()) live.putTag(t);
      for (const r of await opts.store.listReaders()) live.putReader(r);
      await refreshPledges();
      const replayed = await replayPending();
      await alerts.load();
      log.info({ gateways: live.gateways.size, tags: live.tags.size, pledges: live.pledges.size, replayed }, 'state loaded');
      timers.push(clock.setInterval(() => void refreshPledges(), opts.pledgeRefreshMs ?? 2000));
      timers.push(clock.setInterval(() => void checkpoint(), opts.checkpointMs ?? 1000));
      timers.push(clock.setInterval(() => void runRules(), rules.tickMs));
      await opts.connection.start(async (message) => {
        try {
          await dispatch(ctx, message);
        } catch (err) {
          ctx.reject('internal_error', { topic: message.topic, err });
        }
      });
    },
    refreshPledges,
    runRules,
    isConnected: () => opts.connection.isConnected(),
    async stop() {
      for (const t of timers) t.cancel();
      await opts.connection.close();
      await refreshing;
      await alerts.idle();
      await checkpoint();
      await opts.series.flush();
      log.info('ingest stopped');
    },
  };
}
