import type { Clock, FieldError } from '@pledgewatch/common';
import { describeErrors, isoTime, pledgeQuantities } from '@pledgewatch/common';
import type { SeriesPoint, SeriesStore, StateStore } from '@pledgewatch/store';
import type { Logger } from 'pino';
import type { AlertEngine } from './alerts/engine.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { GatewayInfo, LiveState } from './domain/live-state.ts';
import type { IngestMetrics, RejectReason } from './metrics.ts';

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
    const record = await this.store.getGateway(id);
    if (record === null) return null;
    const info = { id: record.id, siteId: record.siteId, online: record.online };
    this.live.gateways.set(id, info);
    return info;
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
    const ids = this.touched;
    this.touched = new Set();
    // Valuations the same way: one point per pledge whose value changed (see PledgeValuations).
    await this.writePoints([...this.quantityPoints(ids), ...this.alerts.valuations.samplePoints(this.clock.now())]);
  }

  private quantityPoints(pledgeIds: Iterable<string>): SeriesPoint[] {
    const time = this.clock.now();
    const points: SeriesPoint[] = [];
    for (const id of pledgeIds) {
      const pledge = this.live.pledges.get(id);
      if (pledge === undefined) continue;
      const q = pledgeQuantities(pledge, (epc) => this.live.tags.get(epc), this.live.readerIsUp, this.live.releasedOf(id));
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
