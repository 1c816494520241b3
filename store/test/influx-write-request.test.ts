/**
 * The adapter's own POST /write against a local HTTP server playing InfluxDB: what it sends, and that
 * each way of failing keeps the shape errors.ts classifies (retry or give up).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyInfluxError, isDatabaseMissing } from '../src/influx/errors.ts';
import { parseInfluxUrl } from '../src/influx/url.ts';
import { writeRequester } from '../src/influx/write-request.ts';

interface Seen {
  url: string;
  authorization: string | undefined;
  body: string;
}

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))));

async function influxLike(answer: (res: http.ServerResponse) => void): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => (body += s));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

const failure = (p: Promise<void>) => p.then(() => expect.fail('the write succeeded'), (err: unknown) => err);

describe('InfluxDB write request', () => {
  it('posts the batch to /write of the database, in ms, with the retention policy and credentials', async () => {
    const { port, seen } = await influxLike((res) => res.writeHead(204).end());
    const w = writeRequester(parseInfluxUrl(`http://pw:s%40cret@127.0.0.1:${port}/proxy/pw_db?rp=week`), { maxSockets: 2, timeoutMs: 1_000 });
    await w.send(Buffer.from('m,k=é f=1 1\nm,k=b f=2 2'));
    w.close();
    expect(seen).toEqual([
      { url: '/proxy/write?db=pw_db&precision=ms&rp=week', authorization: `Basic ${Buffer.from('pw:s@cret').toString('base64')}`, body: 'm,k=é f=1 1\nm,k=b f=2 2' },
    ]);
  });

  it('reports a refused batch with InfluxDB\'s reason and how many points it dropped', async () => {
    const { port } = await influxLike((res) => res.writeHead(400).end('{"error":"partial write: field type conflict dropped=3"}'));
    const w = writeRequester(parseInfluxUrl(`http://127.0.0.1:${port}/db`), { maxSockets: 1, timeoutMs: 1_000 });
    const err = await failure(w.send(Buffer.from('m f=1 1')));
    w.close();
    expect(classifyInfluxError(err, 10)).toEqual({ retry: false, lostPoints: 3, reason: expect.stringContaining('field type conflict') as unknown });
  });

  it('sends again, on a new connection, when the server closed the kept-alive one it reused', async () => {
    const served = new WeakSet<object>();
    let requests = 0;
    server = http.createServer((req, res) => {
      requests++;
      // A connection that served a request already is closed on the next, as an idle timeout would.
      if (served.has(req.socket)) return void req.socket.destroy();
      served.add(req.socket);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const w = writeRequester(parseInfluxUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/db`), { maxSockets: 1, timeoutMs: 1_000 });
    await w.send(Buffer.from('m f=1 1'));
    await w.send(Buffer.from('m f=2 2'));
    w.close();
    expect(requests).toBe(3);
  });

  it('retries a server error, a missing database and a timeout', async () => {
    const answers: ((res: http.ServerResponse) => void)[] = [
      (res) => res.writeHead(503).end('overloaded'),
      (res) => res.writeHead(404).end('{"error":"database not found: \\"db\\""}'),
      () => {}, // never answered
    ];
    const { port } = await influxLike((res) => answers.shift()?.(res));
    const w = writeRequester(parseInfluxUrl(`http://127.0.0.1:${port}/db`), { maxSockets: 1, timeoutMs: 200 });
    const unavailable = await failure(w.send(Buffer.from('m f=1 1')));
    expect(classifyInfluxError(unavailable, 1)).toEqual({ retry: true, reason: 'InfluxDB answered 503' });
    const missing = await failure(w.send(Buffer.from('m f=1 1')));
    expect(isDatabaseMissing(missing)).toBe(true);
    expect(classifyInfluxError(missing, 1).retry).toBe(true);
    const timedOut = await failure(w.send(Buffer.from('m f=1 1')));
    expect(classifyInfluxError(timedOut, 1)).toEqual({ retry: true, reason: 'cannot reach InfluxDB (ETIMEDOUT)' });
    w.close();
    server?.closeAllConnections();
  });
});
