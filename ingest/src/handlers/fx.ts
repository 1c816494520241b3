/** `pw/v1/prices/fx/{base}/{quote}`: FX rates from a feed, on the price topic family (see README, "FX"). */
import { compileCheck, FxRateMessage, fxRateProblems, isoTime, parseJson } from '@pledgewatch/common';
import type { IngestContext } from '../context.ts';

const checkRate = compileCheck(FxRateMessage);

export async function handleFx(ctx: IngestContext, pair: { base: string; quote: string }, payload: Buffer): Promise<void> {
  const where = { base: pair.base, quote: pair.quote };
  const json = parseJson(payload);
  if (!json.ok) return ctx.reject('malformed_json', { ...where, topic: 'fx' }, json.errors);
  const checked = checkRate(json.value);
  if (!checked.ok) return ctx.reject('invalid_fx', where, checked.errors);
  const problems = fxRateProblems(checked.value, ctx.clock.now());
  if (problems.length > 0) return ctx.reject('invalid_fx', where, problems);
  if (checked.value.base !== pair.base || checked.value.quote !== pair.quote) {
    return ctx.reject('pair_mismatch', { ...where, claimed: `${checked.value.base}/${checked.value.quote}` });
  }
  const rate = { ...checked.value, at: isoTime(Date.parse(checked.value.at)) };
  if (!(await ctx.store.putFxRate(rate))) return ctx.reject('stale_fx', { ...where, at: rate.at });
  // Pledges with a price in one currency and a loan in the other are revalued now, here and on the other shards.
  ctx.shards.share({ rates: [rate] }, null);
  await ctx.alerts.onPrices([], [rate]);
  await ctx.writePoints([{ measurement: 'fx', tags: { base: rate.base, quote: rate.quote }, fields: { rate: rate.rate }, time: Date.parse(rate.at) }]);
}
