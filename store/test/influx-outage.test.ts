/**
 * InfluxDB going away and coming back, on an influxd of the suite's own (stopped and started on the
 * same port and data): what was written meanwhile is buffered and written after, or — past the
 * buffer's bound — dropped oldest first and counted.
 */
import { waitFor } from '@pledgewatch/common/testing';
import { influxDatabaseUrl, suiteTitle, type ServerProcess } from '@pledgewatch/common/testing-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { openInfluxSeries, type SeriesPoint, type SeriesStore } from '../src/index.ts';
import { T0 } from './fixtures.ts';
import { influxd, ownInfluxd, recordingMetrics } from './influx-helpers.ts';

const points = (from: number, to: number): SeriesPoint[] =>
  Array.from({ length: to - from }, (_, i) => ({
    measurement: 'reading',
    tags: { sensorId: 's1', zone: 'A1' },
    fields: { value: from + i },
    time: T0 + (from + i) * 1_000,
  }));

/** One sample per point: each point sits in its own one-second bucket. */
const everything = { measurement: 'reading', field: 'value', tags: { sensorId: 's1' }, from: T0, to: T0 + 10_000_000, stepMs: 1_000 };

describe.skipIf(!influxd.ok)(suiteTitle('InfluxDB series adapter while influxd is down', influxd), () => {
  let server: ServerProcess | undefined;
  let store: SeriesStore | undefined;
  afterEach(async () => {
    await store?.close();
    await server?.remove();
  });

  it('buffers what is written while influxd is stopped and writes it once it is back', async () => {
    server = await ownInfluxd();
    const metrics = recordingMetrics();
    store = openInfluxSeries({ url: influxDatabaseUrl(server.url), metrics, retryInitialMs: 50, retryMaxMs: 250, flushIntervalMs: 100 });
    await store.write(points(0, 100));
    await store.flush();
    expect(metrics.written_).toBe(100);

    await server.stop();
    await store.write(points(100, 1_100));
    await waitFor('writes failing and retried', () => metrics.retries >= 3);
    expect(metrics.written_).toBe(100);
    await server.start();

    await waitFor('the buffered points written', () => metrics.written_ === 1_100, 15_000);
    const samples = await store.query(everything);
    expect(samples).toHaveLength(1_100);
    expect(samples.at(-1)).toEqual({ time: T0 + 1_099_000, value: 1_099 });
    expect(metrics.dropped_).toEqual({ buffer_full: 0, rejected: 0, invalid: 0, closed: 0 });
  });

  it('drops the oldest points past its bound while influxd is down, counts them, and writes the rest after', async () => {
    server = await ownInfluxd();
    const metrics = recordingMetrics();
    const url = influxDatabaseUrl(server.url);
    store = openInfluxSeries({ url, metrics, batchSize: 500, maxBufferedPoints: 1_000, retryInitialMs: 50, retryMaxMs: 250, flushIntervalMs: 100 });
    await store.write(points(0, 10));
    await store.flush();
    await server.stop();
    for (let i = 10; i < 3_010; i += 500) await store.write(points(i, i + 500));
    expect(metrics.dropped_.buffer_full).toBe(2_000);
    await server.start();
    await store.flush();

    const samples = await store.query(everything);
    expect(samples).toHaveLength(1_010);
    // The oldest points not already in flight made room: the newest are all there.
    expect(samples.filter((s) => s.value >= 2_510)).toHaveLength(500);
    expect(samples.at(-1)).toEqual({ time: T0 + 3_009_000, value: 3_009 });
    expect(metrics.written_).toBe(1_010);
  });
});
