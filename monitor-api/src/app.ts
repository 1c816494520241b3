/**
 * The monitor-api app factory. It builds a ready-to-listen Fastify instance and never listens itself
 * (`startApi` does), so tests and the one-process `pledgewatch start` wire it the same way.
 */
import { systemClock, type Clock, type SigningKey } from '@pledgewatch/common';
import type { SeriesStore, StateStore } from '@pledgewatch/store';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { StateCache } from './domain/state-cache.ts';
import { authenticate } from './http/auth.ts';
import { installHttpMetrics } from './http/metrics.ts';
import { installOpenApi } from './http/openapi.ts';
import { installProblemHandlers } from './http/problems.ts';
import { alertRoutes } from './routes/alerts.ts';
import { evidenceRoutes, keyRoutes } from './routes/evidence.ts';
import { fxRoutes } from './routes/fx.ts';
import { historyRoutes } from './routes/history.ts';
import { gatewayRoutes } from './routes/gateways.ts';
import { opsRoutes } from './routes/ops.ts';
import { pledgeChangeRoutes } from './routes/pledge-changes.ts';
import { pledgeRoutes } from './routes/pledges.ts';
import { priceRoutes } from './routes/prices.ts';
import { streamRoutes } from './routes/stream.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import type { RouteDeps } from './deps.ts';
import type { WebhookStore } from '@pledgewatch/store';
import type { AddressGuard } from '@pledgewatch/webhooks';

export interface AppOptions {
  store: StateStore;
  clock?: Clock;
  logger: Logger;
  /** Where the HTTP metrics go and what /metrics exposes; the process owns it (and its default metrics). */
  registry: Registry;
  /**
   * What /metrics serves, when the process has metrics beyond `registry` (ingest's worker thread);
   * default: `registry.metrics()`.
   */
  metrics?: () => Promise<string>;
  /** Extra readiness of the host process: null when ready, else the reason it is not. */
  ready?: () => Promise<string | null>;
  /** A price older than this is stale (default: common's DEFAULT_MAX_PRICE_AGE_MS, 24 h). */
  maxPriceAgeMs?: number;
  /** Per commodity, its own maximum price age (the same map ingest's PRICE_STALE honours). */
  maxPriceAgeByCommodityMs?: Readonly<Record<string, number>>;
  /** Webhook endpoints and their delivery log; without it the /v1/webhooks routes are absent. */
  webhooks?: { store: WebhookStore; guard: AddressGuard };
  /** Signs valuation certificates; without it GET /v1/pledges/{id}/certificate and GET /v1/keys are absent. */
  signingKey?: SigningKey;
  /** The time-series store ingest writes quantity and valuation points to; without it GET /v1/pledges/{id}/history is absent. */
  series?: SeriesStore;
  /** Largest accepted request body; a 100k-item pledge is about 6 MB of JSON. */
  bodyLimit?: number;
  /**
   * false: only the operations routes (/healthz, /readyz, /metrics, /openapi.json), for a central
   * process that runs ingest or webhook delivery without the lenders' API. Default true.
   */
  lenderRoutes?: boolean;
  /** GET /v1/stream: how often the event outbox is polled, how often an idle stream gets a keep-alive. */
  stream?: { pollMs?: number; heartbeatMs?: number };
}

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** A client-supplied request id is kept only when it is this tame, so it cannot forge log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * TypeBox's compiler converts every request part but the body before checking it (Value.Convert, so
 * that "5" in a query string passes as 5). Route params made only of strings have nothing to convert,
 * and the conversion costs more than the check (measured on GET …/value): for them it is skipped.
 */
const validatorCompiler: typeof TypeBoxValidatorCompiler = (route) =>
  TypeBoxValidatorCompiler(route.httpPart === 'params' && onlyStrings(route.schema) ? { ...route, httpPart: 'body' } : route);

function onlyStrings(schema: TSchema): boolean {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  return (schema as { type?: unknown }).type === 'object' && properties !== undefined && Object.values(properties).every((p) => p.type === 'string');
}

export function buildApp(opts: AppOptions): App {
  // Typed as fastify's logger interface so plugins and routes see the usual FastifyInstance type.
  const loggerInstance: FastifyBaseLogger = opts.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Behind a load balancer the request id it assigned ties our log lines to its own. Fastify would take
    // the header verbatim; genReqId reads it instead so that only a tame value gets into the logs.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  })
    // TypeBox validates here as it does in ingest (common/validate.ts); unlike fastify's default Ajv
    // set-up, which strips unknown properties silently, it refuses them and names them.
    .setValidatorCompiler(validatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: a text body is refused with 415 rather than failing validation oddly.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('tenant', null);
  // Set as the request starts, so error and 404 answers carry it too; a callback hook: an async one
  // costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', String(request.id));
    done();
  });
  installProblemHandlers(app);
  installHttpMetrics(app, opts.registry);
  installOpenApi(app);

  const cache = new StateCache(opts.store, { registry: opts.registry });
  const deps: RouteDeps = { store: opts.store, cache, clock: opts.clock ?? systemClock, maxPriceAgeMs: opts.maxPriceAgeMs, maxPriceAgeByCommodityMs: opts.maxPriceAgeByCommodityMs };
  void app.register(opsRoutes, { store: opts.store, registry: opts.registry, ready: opts.ready, metrics: opts.metrics });
  if (opts.lenderRoutes === false) return app;
  void app.register(
    async (v1) => {
      // One hook, the cache's change counters first, so nothing a request reads from it predates the
      // request; then the API key.
      const auth = authenticate({ findApiKeyByHash: (hash) => cache.apiKey(hash) });
      v1.addHook('onRequest', async function (request, reply) {
        await cache.refresh();
        await auth.call(this, request, reply);
      });
      await v1.register(pledgeRoutes, deps);
      if (opts.series !== undefined) await v1.register(historyRoutes, { ...deps, series: opts.series });
      await v1.register(pledgeChangeRoutes, deps);
      await v1.register(priceRoutes, deps);
      await v1.register(fxRoutes, deps);
      await v1.register(gatewayRoutes, deps);
      await v1.register(alertRoutes, deps);
      await v1.register(evidenceRoutes, { ...deps, signingKey: opts.signingKey, registry: opts.registry });
      await v1.register(streamRoutes, { ...deps, registry: opts.registry, ...opts.stream });
      if (opts.webhooks !== undefined) {
        await v1.register(webhookRoutes, { webhooks: opts.webhooks.store, guard: opts.webhooks.guard, clock: deps.clock });
      }
    },
    { prefix: '/v1' },
  );
  // Public keys need no API key: whoever holds a certificate may check it.
  if (opts.signingKey !== undefined) void app.register(keyRoutes, { prefix: '/v1', signingKey: opts.signingKey });
  return app;
}
