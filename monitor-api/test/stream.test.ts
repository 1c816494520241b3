import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@pledgewatch/common/testing';
import pino from 'pino';
import { EventHub } from '../src/domain/event-hub.ts';
import { addGateway, alertRecord, EPC, registration, startHarness, T0, type Harness } from './harness.ts';

const SITE = 'wh-shanghai-1';
const at = (offsetS: number) => new Date(Date.parse(T0) + offsetS * 1000).toISOString();

interface Frame {
  id: number;
  event: string;
  body: { id: string; type: string; timestamp: string; data: { id: string; pledgeId: string; status: string } };
}

/** A real SSE client over fetch: collects the frames it has read so far. */
class StreamClient {
  readonly frames: Frame[] = [];
  status = 0;
  type = '';
  ended = false;
  /** comment lines (keep-alives) seen */
  comments = 0;
  private readonly abort = new AbortController();
  private buffer = '';

  static async open(h: Harness, key: string, query = '', headers: Record<string, string> = {}): Promise<StreamClient> {
    const c = new StreamClient();
    const res = await fetch(`${h.url}/v1/stream${query}`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
      signal: c.abort.signal,
    });
    c.status = res.status;
    c.type = res.headers.get('content-type') ?? '';
    if (res.body !== null) void c.read(res.body.getReader());
    return c;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          if (block.startsWith(':')) this.comments++;
          const fields = new Map(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (!fields.has('data')) continue;
          this.frames.push({ id: Number(fields.get('id')), event: fields.get('event') ?? '', body: JSON.parse(fields.get('data') ?? '') as Frame['body'] });
        }
      }
    } catch {
      // aborted by the test
    }
    this.ended = true;
  }

  close(): void {
    this.abort.abort();
  }
}

describe('GET /v1/stream', () => {
  let h: Harness;
  let key: string;
  let other: string;
  const clients: StreamClient[] = [];
  const open = async (...args: Parameters<typeof StreamClient.open> extends [Harness, ...infer R] ? R : never) => {
    const c = await StreamClient.open(h, ...args);
    clients.push(c);
    return c;
  };
  const stored = async () => (await h.store.eventsAfter(0, 100)).map((e) => e.seq);

  beforeEach(async () => {
    h = await startHarness({ stream: { pollMs: 20, heartbeatMs: 50 } });
    await addGateway(h.store, 'gw-1', SITE);
    key = await h.keyFor('bank-a');
    other = await h.keyFor('bank-b');
    await h.call('POST', '/v1/pledges', { key, body: registration() });
    await h.call('POST', '/v1/pledges', { key: other, body: registration({ id: 'PL-B', items: [{ epc: EPC(20), quantity: 1 }] }) });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h.close();
  });

  it('streams the caller’s events as they are committed, with the webhook body, and no other tenant’s', async () => {
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-before' }) }]);
    const a = await open(key);
    const b = await open(other);
    expect(a.status).toBe(200);
    expect(a.type).toMatch(/^text\/event-stream/);
    await h.store.applyAlertChanges([
      { kind: 'open', alert: alertRecord({ id: 'alr-1', type: 'DAMAGE', subject: 'zone:A1', updatedAt: at(10) }) },
      { kind: 'open', alert: alertRecord({ id: 'alr-b', tenant: 'bank-b', pledgeId: 'PL-B', updatedAt: at(10) }) },
    ]);
    await h.store.applyAlertChanges([{ kind: 'resolve', alert: alertRecord({ id: 'alr-1', type: 'DAMAGE', subject: 'zone:A1', updatedAt: at(20) }) }]);
    await waitFor('bank-a got its two events', () => a.frames.length >= 2);
    await waitFor('bank-b got its event', () => b.frames.length >= 1);

    const events = await h.store.eventsAfter(0, 100);
    const mine = events.filter((e) => e.tenant === 'bank-a' && e.alertId === 'alr-1');
    // Only events committed after connecting (alr-before is not replayed), in commit order, ids = seqs.
    expect(a.frames.map((f) => [f.id, f.event, f.body.data.id, f.body.data.status])).toEqual([
      [mine[0]?.seq, 'alert.opened', 'alr-1', 'open'],
      [mine[1]?.seq, 'alert.resolved', 'alr-1', 'resolved'],
    ]);
    expect(a.frames[0]?.body).toEqual({ id: mine[0]?.id, type: 'alert.opened', timestamp: at(10), data: mine[0]?.data });
    expect(b.frames.map((f) => f.body.data.id)).toEqual(['alr-b']);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames).toHaveLength(1);
  });

  it('resumes after Last-Event-ID (or ?after=) with nothing lost and nothing repeated', async () => {
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-1' }) }]);
    await h.store.applyAlertChanges([{ kind: 'update', notify: true, alert: alertRecord({ id: 'alr-1', severity: 'critical', updatedAt: at(5) }) }]);
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-b', tenant: 'bank-b', pledgeId: 'PL-B' }) }]);
    const [first] = await stored();
    const resumed = await open(key, '', { 'last-event-id': String(first) });
    const fromZero = await open(key, '?after=0');
    await h.store.applyAlertChanges([{ kind: 'resolve', alert: alertRecord({ id: 'alr-1', updatedAt: at(9) }) }]);
    await waitFor('resumed stream caught up', () => resumed.frames.length >= 2);
    await waitFor('replayed stream caught up', () => fromZero.frames.length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.frames.map((f) => f.event)).toEqual(['alert.updated', 'alert.resolved']);
    expect(fromZero.frames.map((f) => f.event)).toEqual(['alert.opened', 'alert.updated', 'alert.resolved']);
    const ids = fromZero.frames.map((f) => f.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  });

  it('keeps only the event types asked for', async () => {
    const c = await open(key, '?events=alert.resolved,pledge.status_changed');
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-1' }) }]);
    await h.store.applyAlertChanges([{ kind: 'resolve', alert: alertRecord({ id: 'alr-1', updatedAt: at(9) }) }]);
    await waitFor('resolved event', () => c.frames.length >= 1);
    expect(c.frames.map((f) => f.event)).toEqual(['alert.resolved']);
  });

  it('refuses an unknown event type, a malformed Last-Event-ID and a missing key with problem+json', async () => {
    const bad = await h.call('GET', '/v1/stream?events=alert.opened,alert.exploded', { key });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'VALIDATION', errors: [{ path: '/events' }] });
    expect(String(bad.json.detail)).toContain('alert.exploded');
    const badId = await h.call('GET', '/v1/stream', { key, headers: { 'last-event-id': 'yesterday' } });
    expect(badId.status).toBe(400);
    expect(badId.json).toMatchObject({ errors: [{ path: 'Last-Event-ID' }] });
    expect((await h.call('GET', '/v1/stream')).status).toBe(401);
  });

  it('counts connected clients, keeps idle streams alive and ends them when the API shuts down', async () => {
    const c = await open(key);
    await waitFor('client counted', async () => (await h.registry.getSingleMetricAsString('pw_api_stream_clients')).includes('pw_api_stream_clients 1'));
    // heartbeats are comment lines: nothing for the client to parse, but bytes on an idle connection
    await waitFor('keep-alive comments', () => c.comments >= 2);
    expect(c.ended).toBe(false);
    await h.app.close();
    await waitFor('stream ended by the server', () => c.ended);
    expect(await h.registry.getSingleMetricAsString('pw_api_stream_clients')).toContain('pw_api_stream_clients 0');
  });
});

describe('EventHub', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await addGateway(h.store, 'gw-1', SITE);
    await h.call('POST', '/v1/pledges', { key: await h.keyFor('bank-a'), body: registration() });
  });
  afterEach(async () => h.close());

  it('drops a subscriber that cannot keep up, and keeps feeding the others', async () => {
    const hub = new EventHub({ store: h.store, log: pino({ level: 'silent' }), pollMs: 10 });
    const drops: string[] = [];
    const fast: string[] = [];
    let slowCalls = 0;
    await hub.subscribe({ tenant: 'bank-a', types: null, send: () => (slowCalls++, false), drop: (why) => drops.push(why) }, null);
    await hub.subscribe({ tenant: 'bank-a', types: null, send: (e) => (fast.push(e.type), true), drop: (why) => drops.push(why) }, null);
    expect(hub.size).toBe(2);
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-1' }) }]);
    await h.store.applyAlertChanges([{ kind: 'resolve', alert: alertRecord({ id: 'alr-1', updatedAt: at(1) }) }]);
    await waitFor('fast subscriber fed', () => fast.length === 2);
    expect(drops).toEqual(['client too slow']);
    expect(slowCalls).toBe(1);
    expect(hub.size).toBe(1);
    await hub.close();
    expect(drops).toEqual(['client too slow', 'server shutting down']);
  });
});
