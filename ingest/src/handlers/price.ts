/** `pw/v1/prices/{commodity}`: mark-to-market prices from a feed. */
import { compileCheck, parseJson, Price } from '@pledgewatch/common';
import type { IngestContext } from '../context.ts';

const checkPrice = compileCheck(Price);

export async function handlePrice(ctx: IngestContext, commodity: string, payload: Buffer): Promise<void> {
  const json = parseJson(payload);
  if (!json.ok) return ctx.reject('malformed_json', { commodity, topic: 'price' }, json.errors);
  const price = checkPrice(json.value);
  if (!price.ok) return ctx.reject('invalid_price', { commodity }, price.errors);
  if (price.value.commodity !== commodity) {
    return ctx.reject('commodity_mismatch', { commodity, claimed: price.value.commodity });
  }
  if (!(await ctx.store.putPrice(price.value))) {
    return ctx.reject('stale_price', { commodity, at: price.value.at });
  }
  // The pledges of this commodity are revalued now (their LTV alerts and statuses commit on their own),
  // here and on the other shards.
  ctx.shards.share({ prices: [price.value] }, null);
  await ctx.alerts.onPrices([price.value], []);
  await ctx.writePoints([
    {
      measurement: 'price',
      tags: { commodity, currency: price.value.currency, unit: price.value.unit },
      fields: { price: price.value.price },
      time: Date.parse(price.value.at),
    },
  ]);
}
