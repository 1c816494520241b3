/**
 * Builds what the rules see of one pledge (PledgeFacts) from live state and facts. A batch is looked
 * at applied to live state before it commits (see BatchWork), so the alert changes it causes commit in
 * the same transaction as the batch itself.
 */
import {
  classifyItem,
  readerKey,
  type Pledge,
  type ReaderHealth,
  type ReaderIsUp,
  type TagState,
} from '@pledgewatch/common';
import type { LiveState } from '../domain/live-state.ts';
import type { PledgeTally } from '../domain/tally.ts';
import type { RuleConfig } from '../rules/config.ts';
import type { PledgeValuations } from '../valuation/valuations.ts';
import type { EnvironmentFact, GatewayFact, ItemView, PledgeFacts, ReaderFact } from '../rules/types.ts';
import type { Facts } from './facts.ts';

/** Tag, reader and quantity state as the rules should see it. */
export interface StateView {
  tagOf(epc: string): TagState | undefined;
  readerOf(gatewayId: string, readerId: string): ReaderHealth | undefined;
  tallyOf(pledgeId: string): PledgeTally | undefined;
  readerIsUp: ReaderIsUp;
}

export function liveView(live: LiveState): StateView {
  return {
    tagOf: (epc) => live.tagOf(epc),
    readerOf: (g, r) => live.readers.get(readerKey(g, r)),
    tallyOf: (id) => live.tallyOf(id),
    readerIsUp: live.readerIsUp,
  };
}

export interface ViewContext {
  live: LiveState;
  facts: Facts;
  config: RuleConfig;
  valuations: PledgeValuations;
  /** When this engine started (stored statuses count as seen then at the earliest). */
  startedAt: number;
}

export function pledgeFacts(ctx: ViewContext, view: StateView, pledge: Pledge, now: number): PledgeFacts | null {
  const tally = view.tallyOf(pledge.id);
  if (tally === undefined) return null;
  const { live, facts, config } = ctx;
  const quantities = tally.quantities(view.readerIsUp);
  const released = live.releasedOf(pledge.id);
  const items = (): ItemView[] =>
    pledge.items
      .filter((i) => !released.epcs.has(i.epc))
      .map((i) => {
        const tag = view.tagOf(i.epc);
        return { epc: i.epc, quantity: i.quantity, tag, state: classifyItem(pledge, tag, view.readerIsUp) };
      });
  const zones = pledge.zones;
  const sensors = zones.flatMap((z) => facts.sensorsIn(pledge.siteId, z));
  const environment: EnvironmentFact[] = [];
  for (const reading of sensors) {
    if (reading.kind !== 'temperature' && reading.kind !== 'humidity') continue;
    const limit = pledge.storage?.[reading.kind];
    if (limit === undefined) continue;
    const x = facts.excursionOf(pledge.id, reading.sensorId);
    environment.push({ reading, limit, outSince: x?.outSince ?? null, lastExcursion: x?.lastExcursion ?? null });
  }
  return {
    pledge,
    now,
    config,
    released,
    quantities,
    items,
    scales: pledge.scales.map((s) => {
      const r = facts.readingOf(s.sensorId);
      return { sensorId: s.sensorId, expectedKg: s.expectedKg, reading: r?.kind === 'weight' ? r : null };
    }),
    environment,
    sensors: sensors.filter((s) => s.kind !== 'temperature' && s.kind !== 'humidity'),
    alarms: zones.flatMap((z) => facts.alarmsIn(pledge.siteId, z)),
    cameras: zones.flatMap((z) => facts.camerasIn(pledge.siteId, z)),
    trackers: (pledge.trackers ?? []).map((id) => ({ trackerId: id, position: facts.position(id) ?? null })),
    gateways: gatewaysAt(ctx, pledge.siteId, now),
    readers: readers(ctx, view, tally),
    valuation: ctx.valuations.assess(pledge, quantities, now),
  };
}

function gatewaysAt(ctx: ViewContext, siteId: string, now: number): GatewayFact[] {
  const out: GatewayFact[] = [];
  for (const g of ctx.live.gateways.values()) {
    if (g.siteId !== siteId) continue;
    // A gateway first looked at now (registered since start) is silent from now, not from start.
    const l = ctx.facts.livenessOf(g.id, g.online, now);
    // The cadence a gateway keeps, once three intervals show it; a reconnect's short interval or an
    // outage's long one does not move the median.
    const heartbeatMs = l.intervals.length >= 3 ? median(l.intervals) : ctx.config.monitoringGap.heartbeatIntervalMs;
    out.push({ gatewayId: g.id, online: g.online, lastStatusAt: l.lastStatusAt, offlineSince: l.offlineSince, heartbeatMs });
  }
  return out;
}

/**
 * Readers holding this pledge's goods. Connection state comes from reader.status events and from the
 * gateway's periodic status; the newer report wins (as in the API's gateway view).
 */
function readers(ctx: ViewContext, view: StateView, tally: PledgeTally): ReaderFact[] {
  return tally.byReaders().map(({ gatewayId, readerId, quantity }) => {
    const event = view.readerOf(gatewayId, readerId);
    const report = ctx.facts.readerReport(gatewayId, readerId);
    const useReport = report !== undefined && (event === undefined || !(Date.parse(report.at) < Date.parse(event.at)));
    const connected = useReport ? report.connected : (event?.connected ?? true);
    // Since when it is in that state: the event that said so, else the status that first said so.
    const since = event !== undefined && event.connected === connected ? event.at : (report?.changedAt ?? event?.at ?? '');
    return {
      gatewayId,
      readerId,
      connected,
      since,
      lastReadAt: report?.lastReadAt ?? null,
      quantity,
    };
  });
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
