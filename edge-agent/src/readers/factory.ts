import type { Logger } from 'pino';
import type { Clock } from '@pledgewatch/common';
import type { ReaderConfig } from '../config.ts';
import type { EdgeMetrics } from '../metrics.ts';
import type { ReaderDriver } from './driver.ts';
import { LlrpReader } from './llrp/driver.ts';
import { SerialReader } from './serial/driver.ts';
import { SimulatedReader } from './simulated.ts';

/**
 * Builds the driver a reader's config names. One entry per `driver` kind: the LLRP and serial
 * adapters add theirs here and nothing else changes.
 */
export function createReaderDriver(
  config: ReaderConfig,
  clock: Clock,
  random?: () => number,
  logger?: Logger,
  metrics?: Pick<EdgeMetrics, 'ignoredLines'>,
): ReaderDriver {
  switch (config.driver) {
    case 'simulated':
      return new SimulatedReader({ id: config.id, settings: config.simulated, clock, random });
    case 'llrp':
      return new LlrpReader({ id: config.id, settings: config.llrp, antennas: Object.keys(config.antennas).map(Number), clock, random, logger });
    case 'serial':
      return new SerialReader({ id: config.id, settings: config.serial, clock, random, logger, ignoredLines: metrics?.ignoredLines });
  }
}
