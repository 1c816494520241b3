/**
 * The ingest service: follows the gateways' MQTT traffic, keeps live pledge state and time series.
 * Messages are handled strictly one after another (the connection acknowledges each only once it
 * is handled), which keeps per-gateway order and makes (gatewayId, seq) dedup race-free.
 */
import { isoTime, isBefore, readerKey, systemClock, type Clock, type Pledge, type TagState } from '@pledgewatch/common';
import type { SeriesStore, StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AlertEngine } from './alerts/engine.ts';
import { alertMetrics } from './alerts/metrics.ts';
import type { BrokerConnection } from './connection.ts';
import { IngestContext } from './context.ts';
import { LiveState } from './domain/live-state.ts';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { replayBatch } from './handlers/events.ts';
import { dispatch } from './handlers/index.ts';
import { ingestMetrics } from './metrics.ts';
import { ruleConfig, type RuleSettingsT } from './rules/config.ts';
import { ONLY_SHARD, ShardRouting, supersedes, type ShardLink, type ShardNews } from './shards.ts';

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
  /** Which shard of a sharded ingest this is (see shards.ts); default: the only one. */
  shard?: ShardLink;
  /** Called when ingest cannot go on (a group of batches could not be logged, see group-commit.ts): stop the process. */
  onFatal?: (err: unknown) => void;
}

export interface Ingest {
  start(): Promise<void>;
  /** Picks up pledges registered or changed, releases, prices and FX rates since the last look (also runs on a timer). */
  refreshPledges(): Promise<void>;
  /** Runs the rules' timers now (confirmation delays, holds, silence), as the tick does. */
  runRules(): Promise<void>;
  isConnected(): boolean;
  /** Takes in what another shard saw of this one's pledges, or a price it accepted (see shards.ts). */
  receive(news: ShardNews): Promise<void>;
  stop(): Promise<void>;
}

export function createIngest(opts: IngestOptions): Ingest {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ component: 'ingest' });
  const live = new LiveState();
  const commits = new GroupCommit(opts.store, (err) => {
    log.fatal({ err }, 'a group of batches could not be logged; ingest cannot go on');
    opts.onFatal?.(err);
  });
  // A checkpoint retires (and writes the tags of) logged batches only: what it covers may still be staged
  // in a group (a batch joins the checkpoint's queue when staged), so that is logged first, after the
  // checkpoint took its queue (group-commit.ts).
  const checkpointer = new Checkpointer(
    {
      checkpoint: async (c) => {
        await commits.flush();
        await opts.store.checkpoint(c);
      },
    },
    log,
  );
  // The engine's own writes (ticks, statuses, prices) and its look at the store's open alerts come after
  // the batches staged before them, whose alert and status changes it has taken in already.
  const alertStore = Object.create(opts.store) as StateStore;
  alertStore.applyAlertChanges = async (changes, statuses) => {
    await commits.flush();
    await opts.store.applyAlertChanges(changes, statuses);
  };
  alertStore.listActiveAlerts = async (types) => {
    await commits.flush();
    return opts.store.listActiveAlerts(types);
  };
  const shards = new ShardRouting(opts.shard ?? ONLY_SHARD);
  // A wrong rule setting stops ingest here, at start, naming the key.
  const rules = ruleConfig(opts.rules ?? {});
  const alerts: AlertEngine = new AlertEngine({
    store: alertStore,
    live,
    clock,
    log: log.child({ component: 'alerts' }),
    metrics: alertMetrics(opts.registry, () => alerts.openCounts()),
    config: rules,
    ...(shards.sharded ? { mine: (pledgeId: string) => !shards.isForeignPledge(pledgeId) } : {}),
  });
  const ctx = new IngestContext(opts.store, opts.series, live, clock, log, ingestMetrics(opts.registry), checkpointer, alerts, shards, commits);
  let pledgesSeenUntil = '1970-01-01T00:00:00.000Z';
  let releasesSeenUntil = '1970-01-01T00:00:00.000Z';
  let refreshing: Promise<void> = Promise.resolve();
  const timers: { cancel(): void }[] = [];
  /** News from other shards that came before this one's state was loaded. */
  let inbox: ShardNews[] | null = [];

  // Pledges registered by another process are picked up by polling with an overlapping window, so a
  // registration committed just after a poll started is still seen by the next one.
  const loadPledges = async (): Promise<void> => {
    const startedAt = clock.now();
    // Gateways registered since start: the rules watch their sites' pledges for gaps from now on.
    ctx.learnGateways(await opts.store.listGateways());
    const changed = await opts.store.listPledgesChangedSince(pledgesSeenUntil);
    const foreign = changed.filter((p) => !shards.ownsSite(p.siteId) && shards.putForeignPledge(p));
    const fresh = changed.filter((p) => shards.ownsSite(p.siteId) && JSON.stringify(live.pledges.get(p.id)) !== JSON.stringify(p));
    const adopted = await storedTagsOf(fresh.filter((p) => !live.pledges.has(p.id)));
    // A pledge new to this process brings the status last published for it (the LTV hysteresis starts
    // there); for one already known, this process is the one publishing it.
    const statuses = await Promise.all(fresh.map((p) => (live.pledges.has(p.id) ? Promise.resolve(undefined) : opts.store.getPledgeStatus(p.id))));
    // Releases the same way: the rules must honour one as soon as goods may leave under it.
    const releases = await opts.store.listReleasesSince(releasesSeenUntil);
    // Live state is read and changed in the alert engine's turn, never while a batch is applied to it
    // but not yet committed (see BatchWork).
    const released = await alerts.inTurn(() => {
      for (const p of foreign) tellOwner(p);
      for (const t of adopted) if (supersedes(t, live.tagOf(t.epc))) live.putTag(t);
      fresh.forEach((p, i) => {
        const status = statuses[i];
        if (status !== undefined) alerts.valuations.setPublished(p.id, status);
        live.putPledge(p);
      });
      return releases.filter((r) => live.pledges.has(r.pledgeId) && live.putRelease(r)).map((r) => r.pledgeId);
    });
    pledgesSeenUntil = isoTime(startedAt - 5000);
    ctx.touch(fresh.map((p) => p.id));
    ctx.touch(released);
    releasesSeenUntil = isoTime(startedAt - 5000);
    // A loan drawn or repaid (it changes the pledge), a release: revalued now rather than at the next tick.
    await alerts.revalue([...fresh.map((p) => p.id), ...released]);
    // Prices and FX rates posted through the API reach ingest only through the store: few rows, re-read whole.
    const [prices, rates] = await Promise.all([opts.store.listPrices(), opts.store.listFxRates()]);
    await alerts.onPrices(prices, rates);
  };

  /**
   * Sharded, a pledge new to its shard may have tags at other shards' sites (relocated goods): their
   * state as last checkpointed, and from then on what those shards hand over (tellOwner, shareBatch).
   */
  const storedTagsOf = async (pledges: readonly Pledge[]): Promise<TagState[]> => {
    if (!shards.sharded || pledges.length === 0) return [];
    return opts.store.getTags(pledges.flatMap((p) => p.items.map((i) => i.epc)));
  };

  /** Another shard's pledge, new here: what this shard knows of its tags (seen at its sites) goes to the owner. */
  const tellOwner = (pledge: Pledge): void => {
    const tags = pledge.items.flatMap((i) => {
      const t = live.tagOf(i.epc);
      return t !== undefined && shards.ownsSite(t.siteId) ? [t] : [];
    });
    if (tags.length > 0) shards.share({ tags }, shards.shardOfSite(pledge.siteId));
  };

  /** Takes in what another shard saw (see shards.ts); returns the pledges it touched. */
  const takeNews = (news: ShardNews): string[] => {
    const touched: string[] = [];
    const entries = (news.tags ?? []).filter((t) => supersedes(t, live.tagOf(t.epc))).map((t) => live.putTag(t));
    for (const e of entries) if (e.pledgeId !== undefined) touched.push(e.pledgeId);
    // Checkpointed here too: whichever shard's checkpoint comes last, the tags table ends up current.
    checkpointer.add(null, entries, []);
    for (const r of news.readers ?? []) {
      const held = live.readers.get(readerKey(r.gatewayId, r.readerId));
      if (held === undefined || !isBefore(r.at, held.at)) live.putReader(r);
    }
    for (const g of news.gateways ?? []) {
      const gateway = live.gateways.get(g.id);
      if (gateway !== undefined) gateway.online = g.online;
    }
    ctx.touch(touched);
    return touched;
  };

  const applyNews = async (news: ShardNews): Promise<void> => {
    if (news.prices !== undefined || news.rates !== undefined) await alerts.onPrices(news.prices ?? [], news.rates ?? []);
    if (news.tags !== undefined || news.readers !== undefined || news.gateways !== undefined || news.positions !== undefined) {
      await alerts.onRemote(news.positions ?? [], () => takeNews(news));
    }
  };

  const receive = async (news: ShardNews): Promise<void> => {
    if (inbox !== null) inbox.push(news);
    else await applyNews(news).catch((err: unknown) => log.error({ err }, 'news from another shard failed'));
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
    let replayed = 0;
    for (const b of pending) {
      const gateway = await ctx.gateway(b.gatewayId);
      // Sharded, each shard replays (and retires) its own gateways' batches.
      if (gateway === null || !shards.ownsSite(gateway.siteId)) continue;
      replayBatch(ctx, gateway, b.payload);
      replayed++;
    }
    await checkpointer.flush();
    return replayed;
  };

  const refreshPledges = (): Promise<void> => {
    refreshing = refreshing.then(loadPledges).catch((err: unknown) => log.error({ err }, 'pledge refresh failed'));
    return refreshing;
  };

  return {
    async start() {
      const gateways = await opts.store.listGateways();
      ctx.learnGateways(gateways);
      for (const g of gateways) if (shards.ownsSite(g.siteId)) alerts.seedStatus(g.status, g.lastSeenAt);
      // Sharded, the tags at this shard's sites; those of its pledges elsewhere come with the pledges (adoptTags).
      for (const t of await opts.store.listTags()) if (shards.ownsSite(t.siteId)) live.putTag(t);
      for (const r of await opts.store.listReaders()) live.putReader(r);
      await refreshPledges();
      const replayed = await replayPending();
      await alerts.load();
      const early = inbox ?? [];
      inbox = null;
      for (const news of early) await receive(news);
      log.info(
        { gateways: live.gateways.size, tags: live.tagCount, pledges: live.pledges.size, replayed, ...(shards.sharded ? { shard: shards.index, shards: shards.count } : {}) },
        'state loaded',
      );
      timers.push(clock.setInterval(() => void refreshPledges(), opts.pledgeRefreshMs ?? 2000));
      timers.push(clock.setInterval(() => void checkpoint(), opts.checkpointMs ?? 1000));
      timers.push(clock.setInterval(() => void runRules(), rules.tickMs));
      await opts.connection.start(async (message, more = false) => {
        commits.grouping = more;
        try {
          await dispatch(ctx, message);
        } catch (err) {
          ctx.reject('internal_error', { topic: message.topic, err });
        }
        // The group is logged before the connection acknowledges any of it.
        if (!more) await commits.flush();
      });
    },
    refreshPledges,
    runRules,
    isConnected: () => opts.connection.isConnected(),
    receive,
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
