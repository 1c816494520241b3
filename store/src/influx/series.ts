/**
 * The production SeriesStore: InfluxDB through the `influx` client (v1 API). Works with InfluxDB 1.x,
 * and with 2.x / 3.x through their v1-compatible endpoints (user name: anything, password: the API
 * token; on 2.x the database must be mapped to a bucket with a DBRP mapping, as it cannot be created
 * over the v1 API). Writes are buffered and batched by a BatchWriter and go out as line protocol
 * (line.ts) in requests of our own (write-request.ts); queries and CREATE DATABASE through the client.
 * The database is created on first use when it is missing and the credentials allow it.
 */
import type { Clock } from '@pledgewatch/common';
import { redactUrl } from '@pledgewatch/common';
import { InfluxDB } from 'influx';
import type { SeriesLatestQuery, SeriesPoint, SeriesQuery, SeriesRow, SeriesRowsQuery, SeriesSample, SeriesStore } from '../series.ts';
import { classifyInfluxError, isDatabaseMissing, isTransient } from './errors.ts';
import { NameCache, toChunks } from './line.ts';
import { buildLatestQuery, buildQuery, buildRowsQuery, parseRows, parseSamples, type QueryResponse } from './query.ts';
import { parseInfluxUrl } from './url.ts';
import { writeRequester } from './write-request.ts';
import { BatchWriter, type SeriesLog, type SeriesWriterMetrics } from './writer.ts';

export interface InfluxSeriesOptions {
  /** http(s)://[user:password@]host[:port][/prefix]/database[?rp=policy] — see url.ts. */
  url: string;
  log?: SeriesLog;
  metrics?: SeriesWriterMetrics;
  clock?: Clock;
  /** Points per write request (5,000). */
  batchSize?: number;
  /** A partial batch is sent after this long (1 s). */
  flushIntervalMs?: number;
  /** Points buffered or in flight at most (100,000): write() waits, or the oldest are dropped when InfluxDB is down. */
  maxBufferedPoints?: number;
  /** Write requests in flight at once (2). */
  maxInFlight?: number;
  /** One HTTP request's timeout (10 s). */
  requestTimeoutMs?: number;
  flushTimeoutMs?: number;
  backpressureTimeoutMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** The client's own failover would take its only host out of rotation after a failure; retries are ours. */
const NO_HOST_BACKOFF = { getDelay: () => 0, next: () => NO_HOST_BACKOFF, reset: () => NO_HOST_BACKOFF };

export function openInfluxSeries(opts: InfluxSeriesOptions): SeriesStore {
  const target = parseInfluxUrl(opts.url);
  const client = new InfluxDB({
    protocol: target.protocol,
    host: target.host,
    port: target.port,
    path: target.basePath,
    database: target.database,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    pool: { maxRetries: 0, requestTimeout: opts.requestTimeoutMs ?? 10_000, backoff: NO_HOST_BACKOFF },
  });
  const requester = writeRequester(target, { maxSockets: opts.maxInFlight ?? 2, timeoutMs: opts.requestTimeoutMs ?? 10_000 });
  const where = { influx: redactUrl(opts.url), database: target.database };
  const names = new NameCache();
  let databaseReady: Promise<void> | null = null;

  /** CREATE DATABASE is idempotent; it is tried once per process, and again if the database disappears. */
  const ensureDatabase = (): Promise<void> => {
    databaseReady ??= client.createDatabase(target.database).then(
      () => opts.log?.info(where, 'InfluxDB database ready'),
      (err: unknown) => {
        if (isTransient(err)) {
          databaseReady = null;
          throw err;
        }
        // No admin rights, or a 2.x/3.x server: the database has to exist already; writes will tell.
        opts.log?.warn({ ...where, err }, 'could not create the InfluxDB database; assuming it exists');
      },
    );
    return databaseReady;
  };

  const writer = new BatchWriter({
    ...opts,
    send: async (body) => {
      await ensureDatabase();
      await requester.send(Buffer.from(body));
    },
    classify: (err, points) => {
      if (isDatabaseMissing(err)) databaseReady = null;
      return classifyInfluxError(err, points);
    },
  });

  return {
    kind: 'influx',
    async write(points: readonly SeriesPoint[]) {
      for (const chunk of toChunks(points, writer.maxChunk, invalid, names)) await writer.write(chunk);
    },
    async query(q: SeriesQuery): Promise<SeriesSample[]> {
      if (!(q.to > q.from) && q.stepMs > 0) return [];
      return parseSamples(await run(buildQuery(q, target.retentionPolicy)));
    },
    async queryRows(q: SeriesRowsQuery): Promise<SeriesRow[]> {
      if (!(q.to > q.from) && q.stepMs > 0) return [];
      return parseRows(await run(buildRowsQuery(q, target.retentionPolicy)), q.fields);
    },
    async latestRow(q: SeriesLatestQuery): Promise<SeriesRow | null> {
      return parseRows(await run(buildLatestQuery(q, target.retentionPolicy)), q.fields).at(-1) ?? null;
    },
    async flush() {
      await writer.flush();
    },
    async close() {
      try {
        await writer.close();
      } finally {
        requester.close();
      }
    },
  };

  // queryRaw answers untyped JSON; QueryResponse names the part read here and parseRows checks it.
  async function run(influxql: string): Promise<QueryResponse> {
    return (await client.queryRaw(influxql, { database: target.database, precision: 'ms' })) as QueryResponse;
  }

  function invalid(p: SeriesPoint, reason: string): void {
    // Non-finite values are routine (an LTV with nothing eligible); only a point with nothing storable is counted.
    opts.metrics?.dropped('invalid', 1);
    if (reason !== 'no finite field value') opts.log?.warn({ measurement: p.measurement, tags: p.tags, reason }, 'series point dropped');
  }
}
