/** Routes each MQTT topic of CONTRACT §2 to its handler. */
import { parseTopic } from '@pledgewatch/common';
import type { InboundMessage } from '../connection.ts';
import type { IngestContext } from '../context.ts';
import { handleEvents } from './events.ts';
import { handlePrice } from './price.ts';
import { handleStatus } from './status.ts';

export async function dispatch(ctx: IngestContext, message: InboundMessage): Promise<void> {
  const topic = parseTopic(message.topic);
  switch (topic?.kind) {
    case 'gateway.events':
      ctx.metrics.messages.inc({ kind: 'events' });
      return handleEvents(ctx, topic.gatewayId, message.payload);
    case 'gateway.status':
      ctx.metrics.messages.inc({ kind: 'status' });
      return handleStatus(ctx, topic.gatewayId, message.payload);
    case 'price':
      ctx.metrics.messages.inc({ kind: 'price' });
      return handlePrice(ctx, topic.commodity, message.payload);
    default:
      return ctx.reject('unknown_topic', { topic: message.topic });
  }
}
