/** /v1/fx: FX rates, global market data like prices; a valuation in another currency needs one. */
import { fxRateProblems, FxRateMessage, isoTime, PwError, type FxRate } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { problemResponses } from '../http/schemas.ts';

/** As for prices: a feed's clock may run a little ahead, not more. */
const security = [{ apiKey: [] }];
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

export const fxRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store, clock }, done) => {
  app.post(
    '/fx',
    {
      schema: {
        tags: ['prices'],
        summary: 'Record an FX rate: `rate` units of quote per unit of base',
        description: 'A rate not newer than the recorded one for the pair is refused (409), except an exact repeat of it (200).',
        security,
        body: FxRateMessage,
        response: {
          201: FxRateMessage,
          200: FxRateMessage,
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'FX_RATE_OUT_OF_ORDER'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const problems = fxRateProblems(body, clock.now());
      if (problems.length > 0) throw new PwError('VALIDATION', problems.map((p) => `${p.path.slice(1)} ${p.reason}`).join('; '), problems);
      const rate: FxRate = { ...body, at: isoTime(Date.parse(body.at)) };
      if (await store.putFxRate(rate)) {
        request.log.info({ base: rate.base, quote: rate.quote, rate: rate.rate, at: rate.at }, 'fx rate recorded');
        return reply.code(201).send(rate);
      }
      const stored = await store.getFxRate(rate.base, rate.quote);
      if (stored !== null && JSON.stringify(stored) === JSON.stringify(rate)) return reply.code(200).send(stored);
      throw new PwError('FX_RATE_OUT_OF_ORDER', `A ${rate.base}/${rate.quote} rate at ${stored?.at ?? 'the same time'} or later is recorded`);
    },
  );

  app.get(
    '/fx/:base/:quote',
    {
      schema: {
        tags: ['prices'],
        summary: 'The latest FX rate of a pair',
        security,
        params: Type.Object({ base: Currency, quote: Currency }),
        response: { 200: FxRateMessage, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const rate = await store.getFxRate(request.params.base, request.params.quote);
      if (rate === null) throw new PwError('NOT_FOUND', `No ${request.params.base}/${request.params.quote} rate`);
      return rate;
    },
  );
  done();
};
