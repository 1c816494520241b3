import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery, deliveryAgent } from '../src/attempt.ts';
import { nextDelayMs, outcomeOf, parseRetryAfter, RETRY_SCHEDULE_MS } from '../src/schedule.ts';
import { generateSecret, isSecret, sign, webhookHeaders } from '../src/signing.ts';
import { AddressGuard } from '../src/ssrf.ts';

describe('Standard Webhooks signing', () => {
  it('matches the specification vector', () => {
    // libraries/javascript/src/webhook.test.ts of standard-webhooks/standard-webhooks (../shared/testdata/README.md)
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('is verified by the standardwebhooks package, with one secret and during a rotation', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    expect(isSecret(newSecret)).toBe(true);
    const body = JSON.stringify({ type: 'alert.opened', timestamp: new Date().toISOString(), data: { id: 'a1' } });
    const ts = Math.floor(Date.now() / 1000);
    const rotating = webhookHeaders([newSecret, oldSecret], 'evt_1', ts, body);
    expect(new Webhook(oldSecret).verify(body, rotating)).toMatchObject({ type: 'alert.opened' });
    expect(new Webhook(newSecret).verify(body, rotating)).toMatchObject({ type: 'alert.opened' });
    expect(() => new Webhook(generateSecret()).verify(body, rotating)).toThrow();
    expect(() => new Webhook(newSecret).verify(`${body} `, rotating)).toThrow();
  });
});

describe('address guard', () => {
  const strict = new AddressGuard({ allow: [] });
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'refuses %s',
    (ip) => expect(strict.refuse(ip)).toMatch(/internal/),
  );
  it('lets public addresses and allow-listed ones through', () => {
    expect(strict.refuse('93.184.216.34')).toBeNull();
    expect(new AddressGuard({ allow: ['127.0.0.1'] }).refuse('127.0.0.1')).toBeNull();
    expect(new AddressGuard({ allow: ['10.20.0.0/16'] }).refuse('10.20.3.4')).toBeNull();
    expect(new AddressGuard({ allow: ['10.20.0.0/16'] }).refuse('10.21.3.4')).not.toBeNull();
  });
  it('checks URLs: scheme, credentials and resolved addresses', async () => {
    expect(await strict.checkUrl('ftp://example.com/x')).toMatch(/only http/);
    expect(await strict.checkUrl('https://user:pw@example.com/x')).toMatch(/credentials/);
    expect(await strict.checkUrl('http://localhost:8080/hook')).toMatch(/internal/);
    expect(await strict.checkUrl('http://[::1]/hook')).toMatch(/internal/);
    expect(await strict.checkUrl('not a url')).toMatch(/not a valid URL/);
    expect(() => new AddressGuard({ allow: ['nonsense'] })).toThrow(/allow-list entry/);
  });
  it('refuses at connect time too (a name that resolves inward later)', async () => {
    const result = await attemptDelivery(deliveryAgent(strict), 'http://localhost:9/hook', {}, '{}', { now: Date.now });
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/internal/);
  });
});

describe('retry schedule', () => {
  it('follows the spec schedule, with bounded jitter, then gives up', () => {
    expect(RETRY_SCHEDULE_MS).toHaveLength(10);
    const mid = () => 0.5;
    expect(RETRY_SCHEDULE_MS.map((_, i) => nextDelayMs(i, mid))).toEqual(RETRY_SCHEDULE_MS);
    expect(nextDelayMs(2, () => 1)).toBe(330_000);
    expect(nextDelayMs(2, () => 0)).toBe(270_000);
    expect(nextDelayMs(10, mid)).toBeNull();
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total / 86_400_000).toBeCloseTo(3.15, 1); // "about three days"
  });
  it('classifies answers and honours Retry-After', () => {
    expect(outcomeOf(204)).toEqual({ kind: 'delivered' });
    expect(outcomeOf(410)).toEqual({ kind: 'disable' });
    expect(outcomeOf(503, 60_000)).toEqual({ kind: 'retry', retryAfterMs: 60_000 });
    expect(outcomeOf(null)).toEqual({ kind: 'retry' });
    expect(outcomeOf(301)).toEqual({ kind: 'retry' });
    expect(nextDelayMs(1, () => 0.5, 120_000)).toBe(120_000);
    expect(nextDelayMs(3, () => 0.5, 1_000)).toBe(1_800_000);
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('2026-10-21T07:27:00Z'))).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('a delivery attempt against a real receiver', () => {
  let server: Server;
  let base: string;
  const agent = deliveryAgent(new AddressGuard({ allow: ['127.0.0.1'] }));
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.statusCode = req.url === '/busy' ? 503 : req.url === '/gone' ? 410 : 200;
      if (req.url === '/busy') res.setHeader('retry-after', '7');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await agent.close();
  });

  it('reports status, latency and Retry-After, and turns timeouts into data', async () => {
    expect(await attemptDelivery(agent, `${base}/ok`, {}, '{}', { now: Date.now })).toMatchObject({ status: 200 });
    expect(await attemptDelivery(agent, `${base}/busy`, {}, '{}', { now: Date.now })).toMatchObject({ status: 503, retryAfterMs: 7000 });
    expect(await attemptDelivery(agent, `${base}/gone`, {}, '{}', { now: Date.now })).toMatchObject({ status: 410 });
    const slow = await attemptDelivery(agent, `${base}/slow`, {}, '{}', { now: Date.now, timeoutMs: 200 });
    expect(slow).toMatchObject({ status: null, error: 'timed out after 200 ms' });
    const refused = await attemptDelivery(agent, 'http://127.0.0.1:1/x', {}, '{}', { now: Date.now });
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/ECONNREFUSED|connect/);
  });
});
