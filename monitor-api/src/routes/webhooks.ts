/**
 * /v1/webhooks: a lender's endpoints for signed event delivery (CONTRACT §4), their delivery log and
 * manual replay. URLs that resolve to internal addresses are refused (the allow-list is the
 * operator's), and the secret is shown once, at creation or rotation.
 */
import { randomBytes } from 'node:crypto';
import { Id, isoTime, PwError } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { Clock } from '@pledgewatch/common';
import type { Delivery, DeliveryAttempt, WebhookEndpoint, WebhookStore } from '@pledgewatch/store';
import { generateSecret, type AddressGuard } from '@pledgewatch/webhooks';
import { Type } from 'typebox';
import { tenantOf } from '../http/auth.ts';
import { problemResponses } from '../http/schemas.ts';

export const WEBHOOK_EVENT_TYPES = ['alert.opened', 'alert.updated', 'alert.resolved', 'pledge.status_changed'] as const;
/** After a rotation the old secret keeps signing (next to the new one) this long. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export interface WebhookDeps {
  webhooks: WebhookStore;
  guard: AddressGuard;
  clock: Clock;
}

const security = [{ apiKey: [] }];
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(s: T) => Type.Union([s, Type.Null()]);
// Spelled out: a Union over a mapped array of literals types as never.
const EventType = Type.Union([
  Type.Literal('alert.opened'),
  Type.Literal('alert.updated'),
  Type.Literal('alert.resolved'),
  Type.Literal('pledge.status_changed'),
]);
const EndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(EventType, { description: 'event types delivered; empty = all' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  disabledReason: Nullable(Type.String()),
  createdAt: Type.String(),
});
const WithSecret = Type.Object({ ...EndpointView.properties, secret: Type.String({ description: 'whsec_…, shown once' }) });
const AttemptView = Type.Object({
  n: Type.Integer(),
  at: Type.String(),
  statusCode: Nullable(Type.Integer()),
  latencyMs: Type.Integer(),
  error: Nullable(Type.String()),
});
const DeliveryView = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'the webhook-id header of every attempt' }),
  eventType: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String()),
  lastStatus: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Type.String(),
  attemptLog: Type.Array(AttemptView),
});
const Params = Type.Object({ id: Id });

const endpointView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  events: e.events as (typeof WEBHOOK_EVENT_TYPES)[number][],
  status: e.status,
  disabledReason: e.disabledReason,
  createdAt: e.createdAt,
});
const deliveryView = (d: Delivery & { attemptLog: DeliveryAttempt[] }) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt === null ? null : isoTime(d.nextAttemptAt),
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: d.createdAt,
  attemptLog: d.attemptLog,
});

export const webhookRoutes: FastifyPluginCallbackTypebox<WebhookDeps> = (app, { webhooks, guard, clock }, done) => {
  const mine = async (tenant: string, id: string) => {
    const e = await webhooks.getEndpoint(tenant, id);
    if (e === null) throw new PwError('NOT_FOUND', `No webhook endpoint ${id}`);
    return e;
  };

  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Register an endpoint for signed event delivery (Standard Webhooks)',
        security,
        body: Type.Object(
          { url: Type.String({ maxLength: 2048 }), events: Type.Array(EventType, { maxItems: 16, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 201: WithSecret, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'WEBHOOK_URL_REFUSED') },
      },
    },
    async (request, reply) => {
      const refused = await guard.checkUrl(request.body.url);
      if (refused !== null) {
        throw new PwError('WEBHOOK_URL_REFUSED', `url: ${refused}`, [{ path: '/url', reason: refused }]);
      }
      const secret = generateSecret();
      const endpoint: WebhookEndpoint = {
        id: `wh_${randomBytes(12).toString('base64url')}`,
        tenant: tenantOf(request),
        url: request.body.url,
        events: request.body.events,
        secrets: [{ secret, expiresAt: null }],
        status: 'active',
        disabledReason: null,
        createdAt: isoTime(clock.now()),
      };
      await webhooks.createEndpoint(endpoint);
      request.log.info({ webhookId: endpoint.id, url: endpoint.url }, 'webhook endpoint registered');
      return reply.code(201).send({ ...endpointView(endpoint), secret });
    },
  );

  app.get(
    '/webhooks',
    { schema: { tags: ['webhooks'], summary: "The caller's endpoints", security, response: { 200: Type.Object({ items: Type.Array(EndpointView) }) } } },
    async (request) => ({ items: (await webhooks.listEndpoints(tenantOf(request))).map(endpointView) }),
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags: ['webhooks'], summary: 'One endpoint', security, params: Params, response: { 200: EndpointView, ...problemResponses('NOT_FOUND') } } },
    async (request) => endpointView(await mine(tenantOf(request), request.params.id)),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delete an endpoint; its pending deliveries fail',
        security,
        params: Params,
        response: { 204: Type.Null(), ...problemResponses('NOT_FOUND') },
      },
    },
    async (request, reply) => {
      if (!(await webhooks.deleteEndpoint(tenantOf(request), request.params.id))) {
        throw new PwError('NOT_FOUND', `No webhook endpoint ${request.params.id}`);
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Issue a new secret; the previous one keeps signing alongside for 24 h',
        security,
        params: Params,
        response: {
          200: Type.Object({ secret: Type.String(), previousSecretExpiresAt: Type.String() }),
          ...problemResponses('NOT_FOUND'),
        },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      const endpoint = await mine(tenant, request.params.id);
      const now = clock.now();
      const expiresAt = now + ROTATION_OVERLAP_MS;
      const secret = generateSecret();
      const kept = endpoint.secrets
        .filter((s) => s.expiresAt === null || s.expiresAt > now)
        .map((s) => ({ secret: s.secret, expiresAt: Math.min(s.expiresAt ?? expiresAt, expiresAt) }));
      await webhooks.setSecrets(tenant, endpoint.id, [{ secret, expiresAt: null }, ...kept]);
      return { secret, previousSecretExpiresAt: isoTime(expiresAt) };
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The delivery log, newest first, with every attempt',
        security,
        params: Params,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }),
        response: { 200: Type.Object({ items: Type.Array(DeliveryView) }), ...problemResponses('NOT_FOUND') },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      await mine(tenant, request.params.id);
      const items = await webhooks.listDeliveries(tenant, request.params.id, request.query.limit ?? 100);
      return { items: items.map(deliveryView) };
    },
  );

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Deliver again (same webhook-id), now',
        security,
        params: Type.Object({ id: Id, deliveryId: Id }),
        response: { 202: DeliveryView, ...problemResponses('NOT_FOUND') },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const { id, deliveryId } = request.params;
      await mine(tenant, id);
      if (!(await webhooks.redeliver(tenant, id, deliveryId, clock.now()))) {
        throw new PwError('NOT_FOUND', `No delivery ${deliveryId} of webhook endpoint ${id}`);
      }
      const delivery = await webhooks.getDelivery(tenant, id, deliveryId);
      return reply.code(202).send(deliveryView(delivery as Delivery & { attemptLog: DeliveryAttempt[] }));
    },
  );
  done();
};
