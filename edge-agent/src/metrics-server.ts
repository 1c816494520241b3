/**
 * The optional operations endpoint of the agent (`metrics` in the edge config): Prometheus text at
 * /metrics and the gateway status at /healthz, on node:http — a gateway has no use for a web
 * framework for two read-only routes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Type, type Static } from 'typebox';

export const METRICS_DEFAULTS = { host: '127.0.0.1' } as const;

export const MetricsSettingsSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, pattern: '^[^\\s]+$', default: METRICS_DEFAULTS.host, description: 'bind address' })),
    port: Type.Integer({ minimum: 0, maximum: 65535, description: 'HTTP port of /metrics and /healthz (0 = any free port)' }),
  },
  { additionalProperties: false },
);
export type MetricsSettingsInput = Static<typeof MetricsSettingsSchema>;

export interface MetricsSettings {
  readonly host: string;
  readonly port: number;
}

export function resolveMetricsSettings(input: MetricsSettingsInput): MetricsSettings {
  return { host: input.host ?? METRICS_DEFAULTS.host, port: input.port };
}

export interface MetricsServerOptions {
  settings: MetricsSettings;
  registry: Registry;
  /** The body of /healthz: what the agent would publish as its status now. */
  health: () => unknown;
  logger: Logger;
}

export class MetricsServer {
  private readonly options: MetricsServerOptions;
  private server: http.Server | null = null;
  private address = '';

  constructor(options: MetricsServerOptions) {
    this.options = options;
  }

  /** `http://host:port` once listening, '' before. */
  get url(): string {
    return this.address;
  }

  /** Listens; rejects (naming the address) when the port is taken, so the agent stops at start. */
  async start(): Promise<void> {
    if (this.server !== null) return;
    const { host, port } = this.options.settings;
    const server = http.createServer((req, res) => this.handle(req, res));
    // A scraper that keeps its connection open must not hold stop() up.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`metrics: cannot listen on ${host}:${port}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    server.on('error', (err) => this.options.logger.error({ err: err.message }, 'metrics endpoint error'));
    const address = server.address() as AddressInfo;
    this.address = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    this.options.logger.info({ url: this.address }, 'metrics endpoint listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
    if (path === '/healthz') return reply(res, 200, 'application/json', `${JSON.stringify(this.options.health())}\n`);
    if (path !== '/metrics') return reply(res, 404, 'text/plain', 'not found: try /metrics or /healthz\n');
    const { registry } = this.options;
    registry.metrics().then(
      (text) => reply(res, 200, registry.contentType, text),
      (err: unknown) => {
        this.options.logger.error({ err: (err as Error).message }, 'cannot collect metrics');
        reply(res, 500, 'text/plain', 'cannot collect metrics\n');
      },
    );
  }
}

function reply(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
