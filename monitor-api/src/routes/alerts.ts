/** /v1/alerts: the caller's tenant's alerts, and what a person does with them (acknowledge, resolve). */
import { alertView, Id, PwError, RFC3339_PATTERN } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { tenantOf } from '../http/auth.ts';
import { AlertSchema, AlertStatusSchema, AlertTypeSchema, IdParams, problemResponses } from '../http/schemas.ts';

// Open to other parameters, as the pledge list is: unknown ones are ignored rather than refused.
const ListQuery = Type.Object({
  status: Type.Optional(AlertStatusSchema),
  pledgeId: Type.Optional(Id),
  type: Type.Optional(AlertTypeSchema),
  since: Type.Optional(Type.String({ pattern: RFC3339_PATTERN, description: 'only alerts changed (updatedAt) at or after this time (RFC 3339)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const security = [{ apiKey: [] }];

export const alertRoutes: FastifyPluginCallbackTypebox<RouteDeps> = (app, { store, clock }, done) => {
  const now = () => new Date(clock.now()).toISOString();

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts of your pledges, most recently changed first',
        security,
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(AlertSchema) }), ...problemResponses('VALIDATION', 'UNAUTHENTICATED') },
      },
    },
    async (request) => {
      const { status, pledgeId, type, since, limit } = request.query;
      const alerts = await store.listAlerts(tenantOf(request), {
        ...(status === undefined ? {} : { statuses: [status] }),
        ...(pledgeId === undefined ? {} : { pledgeId }),
        ...(type === undefined ? {} : { type }),
        ...(since === undefined ? {} : { since }),
        limit: limit ?? 100,
      });
      return { items: alerts.map(alertView) };
    },
  );

  app.get(
    '/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its evidence',
        security,
        params: IdParams,
        response: { 200: AlertSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const alert = await store.getAlert(tenantOf(request), request.params.id);
      if (alert === null) throw new PwError('NOT_FOUND', `No alert ${request.params.id}`);
      return alertView(alert);
    },
  );

  app.post(
    '/alerts/:id/ack',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert: a person has seen it (recorded as alert.updated)',
        description: 'Acknowledging an acknowledged alert changes nothing. The rules keep updating it and resolve it when the condition clears.',
        security,
        params: IdParams,
        response: { 200: AlertSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND', 'ALERT_RESOLVED') },
      },
    },
    async (request) => {
      const alert = await store.acknowledgeAlert(tenantOf(request), request.params.id, now());
      if (alert === null) throw new PwError('NOT_FOUND', `No alert ${request.params.id}`);
      request.log.info({ alertId: alert.id, pledgeId: alert.pledgeId }, 'alert acknowledged');
      return alertView(alert);
    },
  );

  app.post(
    '/alerts/:id/resolve',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Resolve an alert (recorded as alert.resolved)',
        description:
          'Resolving a resolved alert changes nothing. If the condition still holds, the rules open a new alert after their confirmation delay.',
        security,
        params: IdParams,
        response: { 200: AlertSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const alert = await store.resolveAlert(tenantOf(request), request.params.id, now());
      if (alert === null) throw new PwError('NOT_FOUND', `No alert ${request.params.id}`);
      request.log.info({ alertId: alert.id, pledgeId: alert.pledgeId }, 'alert resolved by a person');
      return alertView(alert);
    },
  );
  done();
};
