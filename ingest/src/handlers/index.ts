/** Routes each MQTT topic of CONTRACT §2 to its handler. */
import { parseTopic } from '@pledgewatch/common';
import type { InboundMessage } from '../connection.ts';
import type { IngestContext } from '../context.ts';
import { handleEvents } from './events.ts';
import { handleFx } from './fx.ts';
import { handlePrice } from './price.ts';
import { handleStatus } from './status.ts';

export async function dispatch(ctx: IngestContext, message: InboundMessage): Promise<void> {
  const topic = parseTopic(message.topic);
  // Sharded (see shards.ts), every shard receives every message: it handles its own sites' gateways;
  // shard 0 also prices (handing them on) and whatever no shard owns. Others' messages stay unparsed.
  const { shards } = ctx;
  switch (topic?.kind) {
    case 'gateway.events':
      if (shards.sharded && !(await ctx.handles(topic.gatewayId))) return;
      ctx.metrics.messages.inc({ kind: 'events' });
      return handleEvents(ctx, topic.gatewayId, message.payload);
    case 'gateway.status':
      if (shards.sharded && !(await ctx.handles(topic.gatewayId))) return;
      ctx.metrics.messages.inc({ kind: 'status' });
      return handleStatus(ctx, topic.gatewayId, message.payload);
    case 'price':
      if (!shards.leads) return;
      ctx.metrics.messages.inc({ kind: 'price' });
      return handlePrice(ctx, topic.commodity, message.payload);
    case 'fx':
      if (!shards.leads) return;
      ctx.metrics.messages.inc({ kind: 'fx' });
      return handleFx(ctx, topic, message.payload);
    default:
      if (!shards.leads) return;
      return ctx.reject('unknown_topic', { topic: message.topic });
  }
}
