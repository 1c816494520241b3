import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey } from '../src/index.ts';
import { startHarness, type Harness } from './harness.ts';

describe('API keys', () => {
  it('are pw_ + base64url of 32 random bytes, stored as sha256 hex', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^pw_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.key.slice(3), 'base64url')).toHaveLength(32);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(a.key)).toBe(a.hash);
    expect(a.id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(b.key).not.toBe(a.key);
    expect(b.id).not.toBe(a.id);
  });
});

describe('authentication', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('answers 401 problem+json without a valid key, on every /v1 route', async () => {
    const unknownKey = generateApiKey().key;
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/v1/pledges', {}],
      ['GET', '/v1/pledges/PL-1/value', {}],
      ['POST', '/v1/prices', {}],
      ['GET', '/v1/gateways', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['GET', '/v1/pledges', { authorization: 'Bearer not-a-key' }],
      ['GET', '/v1/pledges', { authorization: `Bearer ${unknownKey}` }],
    ];
    for (const [method, path, headers] of cases) {
      const res = await h.call(method, path, { headers, ...(method === 'POST' ? { body: { junk: true } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.type).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.json).toMatchObject({
        type: 'https://pledgewatch.dev/problems/unauthenticated',
        status: 401,
        code: 'UNAUTHENTICATED',
        instance: path,
      });
    }
  });

  it('lets a valid key in, with any case of the scheme', async () => {
    const key = await h.keyFor('bank-a');
    expect((await h.call('GET', '/v1/pledges', { key })).status).toBe(200);
    expect((await h.call('GET', '/v1/pledges', { headers: { authorization: `bearer ${key}` } })).status).toBe(200);
  });

  it('logs each request with its id and, once authenticated, its tenant', async () => {
    const key = await h.keyFor('bank-a');
    await h.call('GET', '/v1/pledges', { key, headers: { 'x-request-id': 'lb-7f3a' } });
    await h.call('GET', '/v1/pledges', { headers: { 'x-request-id': 'bad id with spaces' } });
    const done = h.logs.filter((l) => l.msg === 'request completed');
    expect(done[0]).toMatchObject({ reqId: 'lb-7f3a', tenant: 'bank-a' });
    expect(done[0]?.apiKeyId).toMatch(/^ak_/);
    expect(done[1]?.reqId).toMatch(/^[0-9a-f-]{36}$/); // an untrusted id is replaced, not logged
    expect(done[1]).not.toHaveProperty('tenant');
    expect(JSON.stringify(h.logs)).not.toContain(key);
  });
});
