/** What changes a pledge after registration: loan drawdowns and repayments, and release orders. */
import { minorUnits, PwError, roundMoney, type Pledge, type Release } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { liveValuation } from '../domain/live-valuation.ts';
import { orderRelease } from '../domain/release-order.ts';
import { pledgeView } from '../domain/views.ts';
import { tenantOf } from '../http/auth.ts';
import { IdParams, LoanBody, PledgeViewSchema, problemResponses, ReleaseBody, ReleaseSchema, ValuationSchema } from '../http/schemas.ts';

const security = [{ apiKey: [] }];

function releaseView(r: Release) {
  return {
    id: r.id,
    pledgeId: r.pledgeId,
    epcs: r.epcs,
    ...(r.quantity === undefined ? {} : { quantity: r.quantity }),
    reason: r.reason,
    createdAt: r.createdAt,
  };
}

export const pledgeChangeRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store, clock, maxPriceAgeMs, maxPriceAgeByCommodityMs }, done) => {
  const valuationOpts = { maxPriceAgeMs, maxPriceAgeByCommodityMs };
  // Per pledge, one change at a time: a release is checked against the loan and releases before it.

  async function ownPledge(tenant: string, id: string): Promise<Pledge> {
    const pledge = await store.getPledge(tenant, id);
    if (pledge === null) throw new PwError('NOT_FOUND', `No pledge ${id}`);
    return pledge;
  }

  app.patch(
    '/pledges/:id/loan',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Set the loan outstanding after a drawdown or repayment',
        description:
          'Always recorded (the money has moved); the response carries the valuation at the new amount, and ingest re-evaluates the LTV limits.',
        security,
        params: IdParams,
        body: LoanBody,
        response: {
          200: Type.Object({ ...PledgeViewSchema.properties, valuation: ValuationSchema }),
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND'),
        },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const { id } = request.params;
      return store.exclusivePledge(id, async () => {
        const pledge = await ownPledge(tenant, id);
        const { outstanding } = request.body;
        const currency = pledge.loan.currency;
        // Money is exact: an amount finer than the currency's minor unit is refused, never rounded silently.
        if (roundMoney(outstanding, currency) !== outstanding) {
          throw new PwError('VALIDATION', `outstanding has more than ${minorUnits(currency)} decimals for ${currency}`, [
            { path: '/outstanding', reason: `at most ${minorUnits(currency)} decimals in ${currency}` },
          ]);
        }
        const now = clock.now();
        const updated = await store.updatePledgeLoan(tenant, id, outstanding, new Date(now).toISOString());
        if (updated === null) throw new PwError('NOT_FOUND', `No pledge ${id}`);
        request.log.info({ pledgeId: id, from: pledge.loan.outstanding, to: outstanding }, 'loan changed');
        return { ...pledgeView(updated), valuation: await liveValuation(store, updated, now, valuationOpts) };
      });
    },
  );

  app.post(
    '/pledges/:id/releases',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Order a release of goods',
        description:
          '201 when the LTV after the release stays below marginCallLtv; otherwise 409 RELEASE_BREAKS_LIMIT with `ltv` (after the release) and `maxQuantity` (the largest quantity a release could take now).',
        security,
        params: IdParams,
        body: ReleaseBody,
        response: {
          201: Type.Object({ ...ReleaseSchema.properties, valuation: ValuationSchema }),
          ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND', 'RELEASE_BREAKS_LIMIT'),
        },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { id } = request.params;
      const { release, after } = await store.exclusivePledge(id, async () =>
        orderRelease(store, await ownPledge(tenant, id), request.body, clock.now(), valuationOpts),
      );
      request.log.info({ pledgeId: id, releaseId: release.id, epcs: release.epcs.length, quantity: release.quantity, ltv: after.ltv }, 'release recorded');
      return reply
        .code(201)
        .header('location', `/v1/pledges/${encodeURIComponent(id)}/releases/${release.id}`)
        .send({ ...releaseView(release), valuation: after });
    },
  );

  app.get(
    '/pledges/:id/releases',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Releases of a pledge, oldest first',
        security,
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(ReleaseSchema) }), ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const pledge = await ownPledge(tenant, request.params.id);
      return { items: (await store.listReleases(tenant, pledge.id)).map(releaseView) };
    },
  );
  done();
};
