/** InfluxDB for the store's suites: the server .ci/run started, or an influxd of the suite's own. */
import { findServer, influxDatabaseUrl, startInfluxd, type Availability, type ServerProcess } from '@pledgewatch/common/testing-servers';
import type { DropReason, SeriesWriterMetrics } from '../src/index.ts';

const shared = process.env.PW_TEST_INFLUX_URL;

/** What the suites need: a shared server needs no binary; the outage suites always need one. */
export const influxd: Availability = findServer('influxd', 'PW_TEST_INFLUXD_BIN');
export const influxAvailable: Availability | { ok: true } = shared !== undefined && shared !== '' ? { ok: true } : influxd;

export interface InfluxForTests {
  /** A fresh database URL on the server. */
  databaseUrl(): string;
  close(): Promise<void>;
}

export async function influxForTests(): Promise<InfluxForTests> {
  if (shared !== undefined && shared !== '') return { databaseUrl: () => influxDatabaseUrl(shared), close: () => Promise.resolve() };
  const server = await ownInfluxd();
  return { databaseUrl: () => influxDatabaseUrl(server.url), close: () => server.remove() };
}

export async function ownInfluxd(): Promise<ServerProcess> {
  if (!influxd.ok) throw new Error(influxd.reason);
  return startInfluxd(influxd.bin);
}

/** Metrics recorded in memory, for asserting what the writer counted. */
export function recordingMetrics(): SeriesWriterMetrics & { written_: number; dropped_: Record<DropReason, number>; retries: number } {
  const m = {
    written_: 0,
    retries: 0,
    dropped_: { buffer_full: 0, rejected: 0, invalid: 0, closed: 0 } as Record<DropReason, number>,
    written: (n: number) => {
      m.written_ += n;
    },
    dropped: (reason: DropReason, n: number) => {
      m.dropped_[reason] += n;
    },
    retried: () => {
      m.retries++;
    },
    buffered: () => {},
  };
  return m;
}
