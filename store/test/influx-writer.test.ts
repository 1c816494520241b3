/**
 * The write buffer's rules, on a fake clock and a backend the test controls: batching by size and
 * by time, back-pressure while the backend is slow, retries with backoff, and what is dropped (and
 * counted) when the backend is down past the bound, refuses data, or is still down at shutdown.
 * Points here are numbers, one per line.
 */
import { FakeClock } from '@pledgewatch/common';
import { describe, expect, it } from 'vitest';
import { BatchWriter, type Chunk, type SendFailure } from '../src/influx/writer.ts';
import { recordingMetrics } from './influx-helpers.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

class Backend {
  sent: number[][] = [];
  mode: 'ok' | 'down' | 'refuse' | 'hold' | 'io' = 'ok';
  /** Called as each request starts. */
  onSend = () => {};
  private held: (() => void)[] = [];

  send = (body: string): Promise<void> => {
    const batch = body.split('\n').map(Number);
    this.onSend();
    switch (this.mode) {
      case 'down':
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      case 'refuse':
        return Promise.reject(new Error('bad data'));
      case 'hold':
        return new Promise((resolve) =>
          this.held.push(() => {
            this.sent.push(batch);
            resolve();
          }),
        );
      case 'ok':
        this.sent.push(batch);
        return Promise.resolve();
      case 'io':
        // Answered as a socket would be: in a later turn of the event loop.
        return new Promise((resolve) =>
          setImmediate(() => {
            this.sent.push(batch);
            resolve();
          }),
        );
    }
  };

  classify = (err: unknown, points: number): SendFailure =>
    (err as { code?: string }).code === 'ECONNREFUSED' ? { retry: true, reason: 'down' } : { retry: false, lostPoints: points, reason: 'refused' };

  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

function setup(opts: { batchSize?: number; max?: number; inFlight?: number } = {}) {
  const clock = new FakeClock();
  const backend = new Backend();
  const metrics = recordingMetrics();
  const writer = new BatchWriter({
    send: backend.send,
    classify: backend.classify,
    batchSize: opts.batchSize ?? 3,
    maxBufferedPoints: opts.max ?? 100,
    maxInFlight: opts.inFlight ?? 2,
    flushIntervalMs: 1_000,
    flushTimeoutMs: 5_000,
    clock,
    metrics,
  });
  return { clock, backend, metrics, writer };
}

const chunk = (...points: number[]): Chunk => ({ body: points.join('\n'), points: points.length });
const sorted = (sent: number[][]) => sent.flat().sort((a, b) => a - b);

describe('series write buffer', () => {
  it('lets answers in while a busy producer keeps writing, so a finished request frees its slot at once', async () => {
    const { backend, writer, metrics } = setup({ batchSize: 3, max: 300, inFlight: 2 });
    backend.mode = 'io';
    let written = 0;
    const writtenAtSend: number[] = [];
    backend.onSend = () => writtenAtSend.push(written);
    // A producer that never waits for I/O of its own (as a bulk import would be).
    for (let i = 0; i < 100; i++) {
      await writer.write(chunk(i));
      written++;
    }
    await writer.flush();
    expect(metrics.written_).toBe(100);
    // Had the writer not yielded, the third request would have waited for the producer to finish (or to meet the bound).
    expect(writtenAtSend[2]).toBeLessThan(20);
  });

  it('sends full batches at once and a partial one after the flush interval', async () => {
    const { clock, backend, writer, metrics } = setup();
    for (const c of [chunk(1, 2), chunk(3), chunk(4, 5, 6), chunk(7)]) await writer.write(c);
    await settle();
    expect(backend.sent).toEqual([[1, 2, 3], [4, 5, 6]]);
    clock.advance(999);
    await settle();
    expect(backend.sent).toHaveLength(2);
    clock.advance(1);
    await settle();
    expect(backend.sent).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(metrics.written_).toBe(7);
    expect(writer.buffered).toBe(0);
    await expect(writer.write(chunk(1, 2, 3, 4))).rejects.toThrow(/at most 3 points/);
  });

  it('makes write() wait while the buffer is full and the backend is slow, dropping nothing', async () => {
    const { backend, writer, metrics } = setup({ batchSize: 2, max: 4, inFlight: 1 });
    backend.mode = 'hold';
    await writer.write(chunk(1, 2));
    await writer.write(chunk(3, 4));
    let done = false;
    const waiting = writer.write(chunk(5)).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    expect(writer.buffered).toBe(4);
    backend.release();
    await waiting;
    expect(done).toBe(true);
    backend.mode = 'ok';
    backend.release();
    expect(await writer.flush()).toBe(true);
    expect(sorted(backend.sent)).toEqual([1, 2, 3, 4, 5]);
    expect(metrics.dropped_.buffer_full).toBe(0);
  });

  it('retries a batch with backoff while the backend is down, and writes it when it is back', async () => {
    const { clock, backend, writer, metrics } = setup();
    backend.mode = 'down';
    await writer.write(chunk(1, 2, 3));
    await settle();
    expect(metrics.retries).toBe(1);
    // The first retry comes after 100-200 ms (200 ms, with jitter).
    clock.advance(200);
    await settle();
    expect(metrics.retries).toBe(2);
    backend.mode = 'ok';
    clock.advance(60_000);
    await settle();
    expect(backend.sent).toEqual([[1, 2, 3]]);
    expect(metrics.written_).toBe(3);
  });

  it('drops the oldest points past the bound while the backend is down, and counts them', async () => {
    const { clock, backend, writer, metrics } = setup({ batchSize: 2, max: 4, inFlight: 1 });
    backend.mode = 'down';
    await writer.write(chunk(1, 2));
    await settle();
    // [1, 2] failed and waits for its retry; [3, 4] is queued; the buffer is full.
    await writer.write(chunk(3, 4));
    await writer.write(chunk(5));
    await writer.write(chunk(6, 7));
    expect(metrics.dropped_.buffer_full).toBe(4);
    expect(writer.buffered).toBe(3);
    backend.mode = 'ok';
    clock.advance(60_000);
    await settle();
    const flushed = writer.flush();
    clock.advance(60_000);
    expect(await flushed).toBe(true);
    expect(sorted(backend.sent)).toEqual([5, 6, 7]);
  });

  it('does not retry points the backend refuses as bad data; counts them', async () => {
    const { clock, backend, writer, metrics } = setup();
    backend.mode = 'refuse';
    await writer.write(chunk(1, 2, 3));
    await settle();
    clock.advance(60_000);
    await settle();
    expect(metrics.dropped_.rejected).toBe(3);
    expect(metrics.retries).toBe(0);
    expect(writer.buffered).toBe(0);
  });

  it('writes out what is buffered on close, and counts what the backend never took', async () => {
    const ok = setup();
    await ok.writer.write(chunk(1));
    await ok.writer.close();
    expect(ok.backend.sent).toEqual([[1]]);
    await expect(ok.writer.write(chunk(2))).rejects.toThrow(/closed/);

    const down = setup();
    down.backend.mode = 'down';
    await down.writer.write(chunk(1, 2));
    const closing = down.writer.close();
    await settle();
    down.clock.advance(5_000);
    await closing;
    expect(down.metrics.dropped_.closed).toBe(2);
    expect(down.writer.buffered).toBe(0);
  });
});
