/** A simulated warehouse: one edge agent whose simulated reader sees the tags of each zone. */
import { join } from 'node:path';
import { checkEdgeConfig, createEdgeAgent, type EdgeAgent, type SimulatedReader } from '@pledgewatch/edge-agent';
import type { Logger } from 'pino';

export interface WarehouseOptions {
  gatewayId: string;
  /** zone → EPCs on its shelves; each zone gets its own antenna, in this order. */
  zones: Record<string, string[]>;
  url: string;
  password: string;
  dataDir: string;
  logger: Logger;
  roundMs?: number;
  missProbability?: number;
  absenceTimeoutS?: number;
  heartbeatIntervalS?: number;
}

export const READER_ID = 'reader-1';

export interface Warehouse {
  agent: EdgeAgent;
  reader: SimulatedReader;
  /** Antenna number of a zone. */
  antennaOf(zone: string): number;
}

export function createWarehouse(opts: WarehouseOptions): Warehouse {
  const zones = Object.keys(opts.zones);
  const antennaOf = (zone: string) => {
    const i = zones.indexOf(zone);
    if (i < 0) throw new Error(`no zone ${zone} in warehouse ${opts.gatewayId}`);
    return i + 1;
  };
  const config = checkEdgeConfig({
    gatewayId: opts.gatewayId,
    dataDir: join(opts.dataDir, opts.gatewayId),
    uplink: { url: opts.url, username: opts.gatewayId, password: opts.password },
    heartbeatIntervalS: opts.heartbeatIntervalS ?? 10,
    batch: { maxEvents: 200, maxDelayMs: 100 },
    presence: { absenceTimeoutS: opts.absenceTimeoutS ?? 8, snapshotIntervalS: 60 },
    readers: [
      {
        id: READER_ID,
        driver: 'simulated',
        antennas: Object.fromEntries(zones.map((z) => [String(antennaOf(z)), z])),
        simulated: {
          roundMs: opts.roundMs ?? 1000,
          missProbability: opts.missProbability ?? 0.1,
          rssi: -58,
          tags: Object.fromEntries(zones.map((z) => [String(antennaOf(z)), opts.zones[z] ?? []])),
        },
      },
    ],
  });
  const agent = createEdgeAgent({ config, logger: opts.logger });
  return { agent, reader: agent.simulatedReader(READER_ID), antennaOf };
}

/** SGTIN-96-shaped EPCs: a fixed header and company/item part, then a serial. */
export function demoEpcs(item: number, count: number): string[] {
  const prefix = `3034257BF7194E4${item.toString(16).toUpperCase()}`;
  return Array.from({ length: count }, (_, i) => `${prefix}${(i + 1).toString(16).toUpperCase().padStart(8, '0')}`);
}
