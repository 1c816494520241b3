import type { GroupCommit } from './group-commit.ts';
import type { Clock, FieldError, UplinkEvent } from '@pledgewatch/common';
import { describeErrors, isoTime, pledgeQuantities } from '@pledgewatch/common';
import type { GatewayRecord, SeriesPoint, SeriesStore, StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { AlertEngine } from './alerts/engine.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { GatewayInfo, LiveState } from './domain/live-state.ts';
import type { BatchWork } from './domain/work.ts';
import type { IngestMetrics, RejectReason } from './metrics.ts';
import type { ShardNews, ShardRouting } from './shards.ts';

/** What every topic handler works with. */
export class IngestContext {
  /** Pledges whose quantities may have changed since the last sample. */
  private touched = new Set<string>();

  constructor(
    readonly store: StateStore,
    readonly series: SeriesStore,
    readonly live: LiveState,
    readonly clock: Clock,
    readonly log: Logger,
    readonly metrics: IngestMetrics,
    readonly checkpointer: Checkpointer,
    readonly alerts: AlertEngine,
    readonly shards: ShardRouting,
    readonly commits: GroupCommit,
  ) {}

  /** Logs and counts a refused message or event; nothing else changes. */
  reject(reason: RejectReason, context: Record<string, unknown>, errors: FieldError[] = []): void {
    this.metrics.rejected.inc({ reason });
    this.log.warn({ reason, ...context, errors: errors.length > 0 ? describeErrors(errors) : undefined }, 'rejected');
  }

  /** A gateway from memory, or from the store when it was registered after this process started. */
  async gateway(id: string): Promise<GatewayInfo | null> {
    const known = this.live.gateways.get(id);
    if (known !== undefined) return known;
    if (this.shards.sharded) {
      // Every gateway, not just this one: sites are ranked by registration, so every shard must know
      // the sites registered before this one to give it the same shard.
      this.learnGateways(await this.store.listGateways());
      return this.live.gateways.get(id) ?? null;
    }
    const record = await this.store.getGateway(id);
    if (record === null) return null;
    const info = { id: record.id, siteId: record.siteId, online: record.online };
    this.live.gateways.set(id, info);
    return info;
  }

  /** Takes in gateways registered since the last look (all of them at start), and assigns their sites. */
  learnGateways(records: readonly GatewayRecord[]): void {
    for (const g of records) {
      if (!this.live.gateways.has(g.id)) this.live.gateways.set(g.id, { id: g.id, siteId: g.siteId, online: g.online });
    }
    const moved = this.shards.putGateways(records);
    if (moved.length > 0) this.log.error({ sites: moved }, 'sites changed shard while running (gateway registrations raced); restart ingest');
  }

  /**
   * Whether this shard handles a gateway's messages: those of its own sites, and on shard 0 those of
   * a gateway nobody knows (refused and counted once). Another shard's are skipped, unparsed.
   */
  async handles(gatewayId: string): Promise<boolean> {
    const gateway = await this.gateway(gatewayId);
    return gateway === null ? this.shards.leads : this.shards.ownsSite(gateway.siteId);
  }

  /**
   * Hands what a committed batch shows of other shards' pledges to them: their tags and trackers seen
   * here; and reader health to every shard (a tag of theirs may have been last seen by that reader).
   */
  shareBatch(work: BatchWork, events: readonly UplinkEvent[]): void {
    if (!this.shards.sharded) return;
    const byShard = new Map<number, ShardNews>();
    const newsFor = (shard: number): ShardNews => {
      let news = byShard.get(shard);
      if (news === undefined) byShard.set(shard, (news = {}));
      return news;
    };
    for (const tag of work.uncountedTags()) {
      const owner = this.shards.ownerOfEpc(tag.epc);
      if (owner !== undefined) (newsFor(owner).tags ??= []).push(tag);
    }
    for (const e of events) {
      if (e.type !== 'position') continue;
      const owner = this.shards.ownerOfTracker(e.trackerId);
      if (owner !== undefined) (newsFor(owner).positions ??= []).push(e);
    }
    for (const [shard, news] of byShard) this.shards.share(news, shard);
    if (work.changesReaders) this.shards.share({ readers: work.readers() }, null);
  }

  touch(pledgeIds: Iterable<string>): void {
    for (const id of pledgeIds) this.touched.add(id);
  }

  /**
   * Writes one quantity point per pledge touched since the last sample, and one valuation point per
   * pledge whose value changed: the series gets each change at checkpoint resolution instead of one
   * recomputation of the whole pledge per batch.
   */
  async sampleQuantities(): Promise<void> {
    // In the engine's turn, so that no batch is sampled before it has committed (see BatchWork).
    const points = await this.alerts.inTurn(() => {
      const ids = this.touched;
      this.touched = new Set();
      // Valuations the same way: one point per pledge whose value changed (see PledgeValuations).
      return [...this.quantityPoints(ids), ...this.alerts.valuations.samplePoints(this.clock.now())];
    });
    await this.writePoints(points);
  }

  private quantityPoints(pledgeIds: Iterable<string>): SeriesPoint[] {
    const time = this.clock.now();
    const points: SeriesPoint[] = [];
    for (const id of pledgeIds) {
      const pledge = this.live.pledges.get(id);
      if (pledge === undefined) continue;
      const q = pledgeQuantities(pledge, (epc) => this.live.tagOf(epc), this.live.readerIsUp, this.live.releasedOf(id));
      points.push({ measurement: 'pledge_quantity', tags: { pledgeId: id }, fields: { ...q }, time });
    }
    return points;
  }

  async writePoints(points: SeriesPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.series.write(points);
    this.metrics.points.inc(points.length);
  }

  now(): string {
    return isoTime(this.clock.now());
  }
}
