/** `pw/v1/gw/{gatewayId}/events`: validate, drop replays, log the batch, then update memory and series. */
import { parseJson, validateBatch, type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import type { IngestContext } from '../context.ts';
import { applyEvent } from '../domain/events/index.ts';
import type { GatewayInfo } from '../domain/live-state.ts';
import { BatchWork } from '../domain/work.ts';

export async function handleEvents(ctx: IngestContext, gatewayId: string, payload: Buffer): Promise<void> {
  const stop = ctx.metrics.batchSeconds.startTimer();
  const gateway = await ctx.gateway(gatewayId);
  if (gateway === null) return ctx.reject('unknown_gateway', { gatewayId });
  const json = parseJson(payload);
  if (!json.ok) return ctx.reject('malformed_json', { gatewayId }, json.errors);
  const parsed = validateBatch(json.value);
  if (!parsed.ok) return ctx.reject('invalid_batch', { gatewayId }, parsed.errors);
  const { batch, rejected } = parsed.value;
  if (batch.gatewayId !== gatewayId) {
    return ctx.reject('gateway_mismatch', { gatewayId, claimed: batch.gatewayId, seq: batch.seq });
  }
  for (const r of rejected) ctx.reject('invalid_event', { gatewayId, seq: batch.seq, index: r.index }, r.errors);

  const work = new BatchWork(ctx.live, gateway);
  // The rules and valuation look at the batch applied; what they decide commits with its log entry,
  // and a batch that does not commit is taken back out (see BatchWork).
  const fresh = await ctx.alerts.onBatch(work, batch.events, {
    apply: () => {
      for (const event of batch.events) applyEvent(work, event);
    },
    commit: (alerts, statuses) => ctx.commits.commit({ batch: { gatewayId, seq: batch.seq, appliedAt: ctx.now(), payload }, alerts, statuses }),
    committed: () => commitWork(ctx, work, batch),
  });
  if (!fresh) {
    ctx.metrics.duplicates.inc();
    ctx.log.debug({ gatewayId, seq: batch.seq }, 'duplicate batch dropped');
    return;
  }
  countEvents(ctx, batch.events);
  await ctx.writePoints(work.points);
  stop();
}

/**
 * One counter update per run of events of one type (a batch is mostly one run): a labelled increment
 * per event costs more than the event.
 */
function countEvents(ctx: IngestContext, events: readonly UplinkEvent[]): void {
  let from = 0;
  for (let i = 1; i <= events.length; i++) {
    const type = (events[from] as UplinkEvent).type;
    if (i < events.length && (events[i] as UplinkEvent).type === type) continue;
    ctx.metrics.events.inc({ type }, i - from);
    from = i;
  }
}

/** Queues a logged batch's changes, and the pledges they touch, for the next checkpoint, and tells other shards. */
function commitWork(ctx: IngestContext, work: BatchWork, batch: Pick<UplinkBatch, 'gatewayId' | 'seq' | 'events'>): void {
  ctx.touch(work.pledgeIds);
  if (work.changesReaders) ctx.touch(ctx.live.pledgesAtSite(work.gateway.siteId).map((p) => p.id));
  ctx.checkpointer.add({ gatewayId: batch.gatewayId, seq: batch.seq }, work.committed(), work.readers());
  ctx.shareBatch(work, batch.events);
}

/**
 * Re-applies a batch that was logged before a crash but not checkpointed. It was validated and
 * counted when it first arrived, so this only rebuilds its effect on state.
 */
export function replayBatch(ctx: IngestContext, gateway: GatewayInfo, payload: Buffer): void {
  const json = parseJson(payload);
  const parsed = json.ok ? validateBatch(json.value) : null;
  if (parsed === null || !parsed.ok) return;
  const work = new BatchWork(ctx.live, gateway);
  for (const event of parsed.value.batch.events) applyEvent(work, event);
  commitWork(ctx, work, parsed.value.batch);
  ctx.alerts.replay(parsed.value.batch.events, gateway.siteId);
}
