/** /v1/pledges: register, list, live state and live value of the caller's tenant's pledges. */
import { alertView, PledgeRegistration, PwError, type Pledge } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { registerPledge } from '../domain/register-pledge.ts';
import { pledgeSummary, pledgeView } from '../domain/views.ts';
import { tenantOf } from '../http/auth.ts';
import {
  IdParams,
  PledgeDetailSchema,
  PledgeSummarySchema,
  PledgeViewSchema,
  problemResponses,
  ValuationSchema,
  ValuationStatusSchema,
} from '../http/schemas.ts';

// Open to other parameters: unknown ones (cache busters, tracing) are ignored rather than refused.
const ListQuery = Type.Object({
  status: Type.Optional(ValuationStatusSchema),
  siteId: Type.Optional(Type.String({ maxLength: 64 })),
  borrower: Type.Optional(Type.String({ maxLength: 200 })),
});

const security = [{ apiKey: [] }];

export const pledgeRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store, cache, clock, maxPriceAgeMs, maxPriceAgeByCommodityMs }, done) => {
  const valuationOpts = { maxPriceAgeMs, maxPriceAgeByCommodityMs };

  /** The caller's pledge, or 404 — also for another tenant's pledge, whose existence is not revealed. */
  async function ownPledge(tenant: string, id: string): Promise<Pledge> {
    const pledge = await cache.pledge(tenant, id);
    if (pledge === null) throw new PwError('NOT_FOUND', `No pledge ${id}`);
    return pledge;
  }

  app.post(
    '/pledges',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Register a pledge',
        security,
        body: PledgeRegistration,
        response: {
          201: PledgeViewSchema,
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'PLEDGE_EXISTS', 'EPC_ALREADY_PLEDGED', 'UNKNOWN_SITE'),
        },
      },
    },
    async (request, reply) => {
      const pledge = await registerPledge(store, tenantOf(request), request.body, clock.now());
      request.log.info({ pledgeId: pledge.id, items: pledge.items.length }, 'pledge registered');
      return reply.code(201).header('location', `/v1/pledges/${encodeURIComponent(pledge.id)}`).send(pledgeView(pledge));
    },
  );

  app.get(
    '/pledges',
    {
      schema: {
        tags: ['pledges'],
        summary: 'List pledges with their live valuation',
        description: 'status filters on the live valuation status; the list leaves out the item lists (see GET /v1/pledges/{id}).',
        security,
        querystring: ListQuery,
        response: {
          200: Type.Object({ items: Type.Array(PledgeSummarySchema) }),
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED'),
        },
      },
    },
    async (request) => {
      const { status, siteId, borrower } = request.query;
      const pledges = await store.listPledges(tenantOf(request), {
        ...(siteId === undefined ? {} : { siteId }),
        ...(borrower === undefined ? {} : { borrower }),
      });
      const now = clock.now();
      const rows = await Promise.all(pledges.map(async (p) => pledgeSummary(p, await cache.valuation(p, now, valuationOpts))));
      return { items: status === undefined ? rows : rows.filter((r) => r.valuation.status === status) };
    },
  );

  app.get(
    '/pledges/:id',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Live state of a pledge: terms, quantities, valuation, open alerts',
        security,
        params: IdParams,
        response: { 200: PledgeDetailSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const pledge = await ownPledge(tenant, request.params.id);
      const [valuation, open] = await Promise.all([
        cache.valuation(pledge, clock.now(), valuationOpts),
        store.listAlerts(tenant, { pledgeId: pledge.id, statuses: ['open', 'acknowledged'], limit: 1000 }),
      ]);
      return { ...pledgeView(pledge), valuation, openAlerts: open.map(alertView) };
    },
  );

  app.get(
    '/pledges/:id/value',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Live valuation of a pledge (the hot path)',
        security,
        params: IdParams,
        response: { 200: ValuationSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const pledge = await ownPledge(tenantOf(request), request.params.id);
      return cache.valuation(pledge, clock.now(), valuationOpts);
    },
  );
  done();
};
