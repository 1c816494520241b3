/** HTTP request count and latency by route template and status, in the registry the caller owns. */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

const LABELS = ['method', 'route', 'status_code'] as const;
type Label = (typeof LABELS)[number];

/**
 * Reuses a metric already in the registry: two apps in one process (tests, or a restart of the app
 * inside a long-lived process) must share the series instead of failing on a duplicate name.
 */
function counter(registry: Registry): Counter<Label> {
  const name = 'pledgewatch_http_requests_total';
  return (
    (registry.getSingleMetric(name) as Counter<Label> | undefined) ??
    new Counter({ name, help: 'HTTP requests served by monitor-api', labelNames: LABELS, registers: [registry] })
  );
}

function histogram(registry: Registry): Histogram<Label> {
  const name = 'pledgewatch_http_request_duration_seconds';
  return (
    (registry.getSingleMetric(name) as Histogram<Label> | undefined) ??
    new Histogram({
      name,
      help: 'HTTP request duration in monitor-api, from request received to response sent',
      labelNames: LABELS,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    })
  );
}

export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = counter(registry);
  const duration = histogram(registry);
  // A callback hook: an async one costs a promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    // The route template, never the raw URL: ids in paths would make one series per pledge.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
