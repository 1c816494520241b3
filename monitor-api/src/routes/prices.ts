/**
 * /v1/prices: mark-to-market prices. In this first cut a price is global market data: any tenant's
 * key may post one, and every tenant's pledges are valued at it.
 */
import { Id, isoTime, maxPriceAgeFor, Price, PwError, type PriceRecord } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { PriceViewSchema, problemResponses } from '../http/schemas.ts';

/** A feed's clock may run a little ahead; beyond this a price would block every real one after it. */
const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

const security = [{ apiKey: [] }];

export const priceRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store, clock, maxPriceAgeMs, maxPriceAgeByCommodityMs }, done) => {
  const ages = { defaultMs: maxPriceAgeMs, byCommodityMs: maxPriceAgeByCommodityMs };
  const view = (p: PriceRecord) => ({ ...p, stale: clock.now() - Date.parse(p.at) > maxPriceAgeFor(p.commodity, ages) });

  app.post(
    '/prices',
    {
      schema: {
        tags: ['prices'],
        summary: 'Record a price (per unit of the commodity)',
        description: 'A price not newer than the recorded one is refused (409), except an exact repeat of it (200).',
        security,
        body: Price,
        response: {
          201: PriceViewSchema,
          200: Type.Object(PriceViewSchema.properties, { description: 'the same price was already recorded' }),
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'PRICE_OUT_OF_ORDER'),
        },
      },
    },
    async (request, reply) => {
      const at = Date.parse(request.body.at);
      if (Number.isNaN(at)) throw new PwError('VALIDATION', 'at is not a valid time', [{ path: '/at', reason: 'not a valid time' }]);
      if (at > clock.now() + MAX_FUTURE_SKEW_MS) {
        throw new PwError('VALIDATION', 'at lies in the future', [{ path: '/at', reason: 'lies in the future' }]);
      }
      // Stored in the contract's one time format, so that prices compare and display alike.
      const price: PriceRecord = { ...request.body, at: isoTime(at) };
      if (await store.putPrice(price)) {
        request.log.info({ commodity: price.commodity, price: price.price, at: price.at }, 'price recorded');
        return reply.code(201).send(view(price));
      }
      const stored = await store.getPrice(price.commodity);
      // A feed retrying a price it already delivered gets success, not a conflict it cannot act on.
      if (stored !== null && samePrice(stored, price)) return reply.code(200).send(view(stored));
      throw new PwError('PRICE_OUT_OF_ORDER', `A ${price.commodity} price at ${stored?.at ?? 'the same time'} or later is recorded`);
    },
  );

  app.get(
    '/prices/:commodity',
    {
      schema: {
        tags: ['prices'],
        summary: 'The latest price of a commodity',
        security,
        params: Type.Object({ commodity: Id }),
        response: { 200: PriceViewSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const price = await store.getPrice(request.params.commodity);
      if (price === null) throw new PwError('NOT_FOUND', `No price for ${request.params.commodity}`);
      return view(price);
    },
  );
  done();
};

function samePrice(a: PriceRecord, b: PriceRecord): boolean {
  return (
    a.commodity === b.commodity &&
    a.price === b.price &&
    a.currency === b.currency &&
    a.unit === b.unit &&
    a.at === b.at &&
    a.source === b.source
  );
}
