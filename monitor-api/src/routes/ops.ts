/** Unauthenticated operations routes: liveness, readiness, metrics and the API description. */
import { PwError } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { problemOf, sendProblem } from '../http/problems.ts';
import { problemResponses } from '../http/schemas.ts';

export interface OpsDeps {
  store: Pick<StateStore, 'ping'>;
  registry: Registry;
  ready: (() => Promise<string | null>) | undefined;
  metrics: (() => Promise<string>) | undefined;
}

const Status = Type.Object({ status: Type.String() });

export const opsRoutes: FastifyPluginCallbackTypebox<OpsDeps> = (app, { store, registry, ready, metrics }, done) => {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'Liveness: 200 whenever the process serves', response: { 200: Status } } },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: the state store answers and the host process is ready',
        response: { 200: Status, ...problemResponses('NOT_READY') },
      },
    },
    async (request, reply) => {
      const reason = await notReadyReason(store, ready, request.log);
      if (reason === null) return { status: 'ready' };
      request.log.warn({ reason }, 'not ready');
      return sendProblem(reply, problemOf(new PwError('NOT_READY', reason), request));
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => reply.type(registry.contentType).send(await (metrics ?? (() => registry.metrics()))()),
  );

  app.get('/openapi.json', { schema: { tags: ['ops'], summary: 'This API as OpenAPI 3.1' } }, () => app.swagger());
  done();
};

/** The reason to give is short and generic: /readyz is unauthenticated, the details go to the log. */
async function notReadyReason(
  store: Pick<StateStore, 'ping'>,
  ready: (() => Promise<string | null>) | undefined,
  log: FastifyBaseLogger,
): Promise<string | null> {
  try {
    await store.ping();
  } catch (err) {
    log.error({ err }, 'state store ping failed');
    return 'state store unreachable';
  }
  try {
    return ready === undefined ? null : await ready();
  } catch (err) {
    log.error({ err }, 'readiness check threw');
    return 'readiness check failed';
  }
}
