/**
 * POST /write: the adapter's one hot request, made here rather than through the influx client's pool.
 * The pool takes the body as a string and encodes it twice (once to count its bytes, once to send
 * it) and builds the query string per request: for a 5,000-point batch that was a fifth of the
 * adapter's own work. Here the batch is encoded once, over keep-alive connections.
 *
 * Failures keep the shapes errors.ts classifies: an HTTP answer other than 2xx as an InfluxHttpError
 * carrying the status and InfluxDB's error text, a timeout or a socket error as a Node error with
 * its code.
 */
import http from 'node:http';
import https from 'node:https';
import type { InfluxTarget } from './url.ts';

export class InfluxHttpError extends Error {
  override readonly name = 'InfluxHttpError';
  /** The shape errors.ts reads a status from (the influx client's RequestError has the same). */
  readonly res: { statusCode: number };
  constructor(status: number, text: string) {
    super(`InfluxDB answered ${status}: ${text.trim()}`);
    this.res = { statusCode: status };
  }
}

export interface WriteRequester {
  send(body: Buffer): Promise<void>;
  close(): void;
}

/** An InfluxDB error body is a short JSON text; more than this is not read. */
const MAX_ERROR_TEXT = 4_096;

export function writeRequester(target: InfluxTarget, opts: { maxSockets: number; timeoutMs: number }): WriteRequester {
  const transport = target.protocol === 'https' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const query = new URLSearchParams({ db: target.database, precision: 'ms' });
  if (target.retentionPolicy !== undefined) query.set('rp', target.retentionPolicy);
  const path = `${target.basePath}/write?${query.toString()}`;
  const authorization =
    target.username === undefined ? undefined : `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}`;

  const post = (body: Buffer): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length };
      if (authorization !== undefined) headers.authorization = authorization;
      const req = transport.request({ agent, host: target.host, port: target.port, method: 'POST', path, headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.on('error', reject);
          res.resume();
          res.on('end', resolve);
          return;
        }
        let text = '';
        res.on('error', reject);
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          if (text.length < MAX_ERROR_TEXT) text += s;
        });
        res.on('end', () => reject(new InfluxHttpError(status, text)));
      });
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error(`InfluxDB write timed out after ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err: Error & { code?: string }) => {
        // A kept-alive connection the server closed just as we reused it: once more, on a new one.
        if (req.reusedSocket && err.code === 'ECONNRESET') post(body).then(resolve, reject);
        else reject(err);
      });
      req.end(body);
    });

  return { send: post, close: () => agent.destroy() };
}
