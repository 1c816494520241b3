import { ERRORS } from '@pledgewatch/common';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { registration, startHarness, type Harness } from './harness.ts';

/** The parts of the OpenAPI document these tests look at. */
interface OpenApiDoc {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, {
    requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    responses: Record<string, { description: string; content: Record<string, unknown> } | undefined>;
    security: unknown;
  } | undefined> | undefined>;
}

describe('operations routes', () => {
  let h: Harness | undefined;
  afterEach(async () => h?.close());

  it('serve health, readiness, metrics, the OpenAPI document and the docs page without a key', async () => {
    h = await startHarness();
    expect(await h.call('GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await h.call('GET', '/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });

    const openapi = await h.call('GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    const doc = openapi.json as unknown as OpenApiDoc;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/pledges', '/v1/pledges/{id}', '/v1/pledges/{id}/value', '/v1/prices', '/v1/prices/{commodity}', '/v1/gateways', '/v1/gateways/{id}', '/healthz', '/readyz', '/metrics']),
    );
    const post = doc.paths['/v1/pledges']?.post;
    expect(post?.requestBody.content['application/json']?.schema.properties.items).toBeDefined();
    expect(post?.responses['409']?.content['application/problem+json']).toBeDefined();
    expect(post?.responses['409']?.description).toContain('EPC_ALREADY_PLEDGED');
    expect(post?.security).toEqual([{ apiKey: [] }]);

    const docs = await h.call('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.type).toBe('text/html');

    const metrics = await h.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe('text/plain');
    expect(metrics.text).toContain('pledgewatch_http_requests_total{method="GET",route="/healthz",status_code="200"} 1');
    expect(metrics.text).toContain('pledgewatch_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/openapi.json",status_code="200"}');
  });

  it('reports not ready with 503 problem+json, naming the reason but not internals', async () => {
    let reason: string | null = 'ingest not connected to the broker';
    h = await startHarness({ ready: () => Promise.resolve(reason) });
    const res = await h.call('GET', '/readyz');
    expect(res).toMatchObject({ status: 503, type: 'application/problem+json', json: { code: 'NOT_READY', detail: reason } });
    reason = null;
    expect((await h.call('GET', '/readyz')).status).toBe(200);
    await h.store.close();
    const down = await h.call('GET', '/readyz');
    expect(down.json).toMatchObject({ status: 503, detail: 'state store unreachable' });
  });

  it('answers unknown routes with 404 problem+json, counted under one metric label', async () => {
    h = await startHarness();
    const res = await h.call('GET', '/v2/nothing?x=1');
    expect(res).toMatchObject({ status: 404, type: 'application/problem+json', json: { code: 'NOT_FOUND', instance: '/v2/nothing' } });
    expect((await h.call('GET', '/metrics')).text).toContain('route="unmatched",status_code="404"');
  });

  it("maps fastify's own client errors onto the stable codes", async () => {
    h = await startHarness({ bodyLimit: 1024 });
    const key = await h.keyFor('bank-a');
    const text = await h.call('POST', '/v1/prices', { key, body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text).toMatchObject({ status: 415, type: 'application/problem+json', json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const big = await h.call('POST', '/v1/prices', { key, body: { source: 'x'.repeat(2000) } });
    expect(big).toMatchObject({ status: 413, type: 'application/problem+json', json: { code: 'PAYLOAD_TOO_LARGE' } });
    const noBody = await h.call('POST', '/v1/prices', { key });
    expect(noBody).toMatchObject({ status: 400, json: { code: 'VALIDATION', errors: [{ path: '', in: 'body' }] } });
  });

  it('answers an unexpected failure with 500 and none of its details', async () => {
    h = await startHarness({
      wrapStore: (s) => ({ ...s, listSites: () => Promise.reject(new Error('SQLITE_CORRUPT at /var/secret/state.db')) }),
    });
    const key = await h.keyFor('bank-a');
    const res = await h.call('POST', '/v1/pledges', { key, body: registration(), headers: { 'x-request-id': 'req-42' } });
    expect(res).toMatchObject({ status: 500, type: 'application/problem+json', json: { code: 'INTERNAL', requestId: 'req-42' } });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    expect(res.text).not.toMatch(/SQLITE|secret|stack/i);
  });

  it('documents every error code with its status, in the README and in the OpenAPI description', async () => {
    h = await startHarness();
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const description = ((await h.call('GET', '/openapi.json')).json as unknown as OpenApiDoc).info.description;
    for (const [code, { status, title }] of Object.entries(ERRORS)) {
      expect(title.length, code).toBeGreaterThan(0);
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
      expect(description, code).toContain(`| \`${code}\` | ${status} | ${title} |`);
    }
  });
});
