/**
 * GET /v1/stream: Server-Sent Events with the caller's alert and pledge-status events, the same events
 * (and the same body) as webhooks deliver, for dashboards and for lenders who cannot take inbound
 * calls. Each event's SSE id is its outbox seq, so a client that reconnects with Last-Event-ID (as
 * EventSource does by itself) resumes exactly where it left off.
 */
import { PwError, type EventRecord } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Type } from 'typebox';
import { EventHub } from '../domain/event-hub.ts';
import { tenantOf } from '../http/auth.ts';
import { problemResponses } from '../http/schemas.ts';
import type { RouteDeps } from '../deps.ts';
import { WEBHOOK_EVENT_TYPES } from './webhooks.ts';

export interface StreamOptions extends RouteDeps {
  registry: Registry;
  /** How often the outbox is polled for new events (default 250 ms). */
  pollMs?: number;
  /** Comment line sent this often so proxies keep an idle stream open (default 15 s). */
  heartbeatMs?: number;
}

/** A client whose unsent data exceeds this is disconnected; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const streamRoutes: FastifyPluginCallbackTypebox<StreamOptions> = (app, opts, done) => {
  const clients = new Gauge({ name: 'pw_api_stream_clients', help: 'Clients connected to GET /v1/stream', registers: [opts.registry] });
  const sent = new Counter({ name: 'pw_api_stream_events_total', help: 'Events sent to /v1/stream clients', registers: [opts.registry] });
  const hub = new EventHub({ store: opts.store, log: app.log.child({ component: 'stream' }), pollMs: opts.pollMs ?? 250, onSent: (n) => sent.inc(n) });
  // preClose: the server waits for open connections before onClose hooks run, and streams never end on their own.
  app.addHook('preClose', () => hub.close());

  app.get(
    '/stream',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Server-Sent Events: your alert and pledge-status events as they are committed',
        description:
          'text/event-stream. Each event: `id` = its sequence number, `event` = its type, `data` = the webhook body ' +
          '({"id","type","timestamp","data"}). Reconnect with Last-Event-ID (or ?after=) to resume; without either, ' +
          'the stream starts with the next event.',
        security: [{ apiKey: [] }],
        querystring: Type.Object(
          {
            events: Type.Optional(Type.String({ description: `comma-separated event types (${WEBHOOK_EVENT_TYPES.join(', ')}); default all` })),
            after: Type.Optional(Type.Integer({ minimum: 0, description: 'resume after this event id (overrides Last-Event-ID)' })),
          },
          { additionalProperties: false },
        ),
        response: problemResponses('VALIDATION', 'UNAUTHENTICATED'),
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const types = parseTypes(request.query.events);
      const after = request.query.after ?? lastEventId(request.headers['last-event-id']);
      const raw = reply.raw;
      let unsubscribe = () => {};
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        clients.dec();
        raw.end();
      };
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx and similar proxies would otherwise buffer the stream
        'x-accel-buffering': 'no',
        'x-request-id': String(request.id),
      });
      raw.write('retry: 2000\n\n');
      clients.inc();
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
      raw.on('close', end);
      try {
        unsubscribe = await hub.subscribe(
          {
            tenant,
            types,
            send: (e) => raw.write(frame(e)) || raw.writableLength <= MAX_BUFFERED_BYTES,
            drop: (reason) => {
              request.log.info({ reason }, 'event stream closed by the server');
              end();
            },
          },
          after,
        );
        if (ended) unsubscribe();
        else request.log.info({ after, types: types === null ? 'all' : [...types] }, 'event stream opened');
      } catch (err) {
        request.log.error({ err }, 'event stream failed to start');
        end();
      }
    },
  );
  done();
};

function frame(e: EventRecord): string {
  const body = JSON.stringify({ id: e.id, type: e.type, timestamp: e.createdAt, data: e.data });
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${body}\n\n`;
}

function parseTypes(given: string | undefined): ReadonlySet<string> | null {
  if (given === undefined || given.trim() === '') return null;
  const known = new Set<string>(WEBHOOK_EVENT_TYPES);
  const types = given.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new PwError('VALIDATION', `Unknown event type ${unknown.join(', ')}`, [
      { path: '/events', reason: `must be a comma-separated list of ${WEBHOOK_EVENT_TYPES.join(', ')}` },
    ]);
  }
  return new Set(types);
}

function lastEventId(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) {
    throw new PwError('VALIDATION', 'Last-Event-ID must be an event id this stream sent', [{ path: 'Last-Event-ID', reason: 'must be a non-negative integer' }]);
  }
  return Number(value.trim());
}
