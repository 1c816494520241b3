/** GET /v1/pledges/{id}/history: quantities, value and LTV of the caller's pledge over time, from the series store. */
import { isoTime, PwError } from '@pledgewatch/common';
import type { SeriesStore } from '@pledgewatch/store';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { RouteDeps } from '../deps.ts';
import { loadHistory } from '../domain/history.ts';
import { DEFAULT_SPAN_MS, formatStep, MAX_POINTS, parseHistoryRange } from '../domain/history-range.ts';
import { tenantOf } from '../http/auth.ts';
import { HistorySchema, IdParams, problemResponses } from '../http/schemas.ts';

// Parsed by parseHistoryRange, whose messages say what each parameter takes; unknown parameters are ignored.
const HistoryQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 64, description: `first point's time, RFC 3339 (default: to − ${DEFAULT_SPAN_MS / 3_600_000} h)` })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'no point after this time, RFC 3339 (default: now)' })),
  step: Type.Optional(
    Type.String({
      maxLength: 64,
      description: `time between points: seconds (300), 5m, 1h, 1d, or ISO 8601 (PT5M, P1D); at least 1 s, at most ${MAX_POINTS} points; default: the first of 1s, 5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 1d, 2d, 7d giving at most 300 points`,
    }),
  ),
});

export const historyRoutes: FastifyPluginCallbackTypebox<RouteDeps & { series: SeriesStore }> = (app, { cache, clock, series }, done) => {
  app.get(
    '/pledges/:id/history',
    {
      schema: {
        tags: ['pledges'],
        summary: 'Quantities, market value, eligible value and LTV of a pledge over time',
        description:
          'Points at from, from + step, … up to to (and not after now), each carrying what was last recorded at or before its time; ' +
          'ingest records a point when quantities or the valuation change (at most once a second).',
        security: [{ apiKey: [] }],
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: HistorySchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const now = clock.now();
      const range = parseHistoryRange(request.query, now);
      const pledge = await cache.pledge(tenantOf(request), request.params.id);
      if (pledge === null) throw new PwError('NOT_FOUND', `No pledge ${request.params.id}`);
      const points = await loadHistory(series, pledge, range, now);
      return {
        pledgeId: pledge.id,
        from: isoTime(range.from),
        to: isoTime(range.to),
        step: formatStep(range.stepMs),
        stepSeconds: range.stepMs / 1000,
        unit: pledge.unit,
        currency: pledge.loan.currency,
        points: points.map((p) => ({ ...p, at: isoTime(p.at) })),
      };
    },
  );
  done();
};
