/** `pw/v1/gw/{gatewayId}/events`: validate, drop replays, commit, then update memory and series. */
import { parseJson, validateBatch } from '@pledgewatch/common';
import type { IngestContext } from '../context.ts';
import { applyEvent } from '../domain/events/index.ts';
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
  for (const event of batch.events) applyEvent(work, event);
  const fresh = await ctx.store.commitBatch({
    gatewayId,
    seq: batch.seq,
    appliedAt: ctx.now(),
    tags: [...work.tags.values()],
    readers: [...work.readers.values()],
  });
  if (!fresh) {
    ctx.metrics.duplicates.inc();
    ctx.log.debug({ gatewayId, seq: batch.seq }, 'duplicate batch dropped');
    return;
  }

  const touched = new Set<string>();
  for (const tag of work.tags.values()) {
    ctx.live.putTag(tag);
    const pledgeId = ctx.live.pledgeOfEpc.get(tag.epc);
    if (pledgeId !== undefined) touched.add(pledgeId);
  }
  for (const reader of work.readers.values()) ctx.live.putReader(reader);
  if (work.readers.size > 0) for (const p of ctx.live.pledgesAtSite(gateway.siteId)) touched.add(p.id);
  for (const event of batch.events) ctx.metrics.events.inc({ type: event.type });

  await ctx.writePoints([...work.points, ...ctx.quantityPoints(touched)]);
  stop();
}
