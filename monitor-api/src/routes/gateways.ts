/**
 * /v1/gateways: health of the gateways watching the caller's goods, i.e. those at the sites where
 * the tenant has pledges. Other gateways answer 404, like any id the caller may not see.
 */
import { PwError } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { gatewayView } from '../domain/gateway-view.ts';
import { tenantOf } from '../http/auth.ts';
import { GatewayViewSchema, IdParams, problemResponses } from '../http/schemas.ts';

const security = [{ apiKey: [] }];

export const gatewayRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store }, done) => {
  async function tenantSites(tenant: string): Promise<Set<string>> {
    return new Set((await store.listPledges(tenant)).map((p) => p.siteId));
  }

  app.get(
    '/gateways',
    {
      schema: {
        tags: ['gateways'],
        summary: 'Gateways at the sites of your pledges',
        security,
        response: {
          200: Type.Object({ items: Type.Array(GatewayViewSchema) }),
          ...problemResponses('UNAUTHENTICATED'),
        },
      },
    },
    async (request) => {
      const [sites, gateways, readers] = await Promise.all([
        tenantSites(tenantOf(request)),
        store.listGateways(),
        store.listReaders(),
      ]);
      return { items: gateways.filter((g) => sites.has(g.siteId)).map((g) => gatewayView(g, readers)) };
    },
  );

  app.get(
    '/gateways/:id',
    {
      schema: {
        tags: ['gateways'],
        summary: 'One gateway: online state, readers, outbox',
        security,
        params: IdParams,
        response: { 200: GatewayViewSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const { id } = request.params;
      const [sites, gateway] = await Promise.all([tenantSites(tenantOf(request)), store.getGateway(id)]);
      if (gateway === null || !sites.has(gateway.siteId)) throw new PwError('NOT_FOUND', `No gateway ${id}`);
      return gatewayView(gateway, await store.listReaders());
    },
  );
  done();
};
