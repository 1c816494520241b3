export { createEdgeAgent, EdgeAgent, AGENT_VERSION, type EdgeAgentOptions } from './agent.ts';
export { Batcher, type BatcherOptions } from './batcher.ts';
export {
  checkEdgeConfig,
  loadEdgeConfig,
  EdgeConfigSchema,
  EDGE_DEFAULTS,
  READER_DRIVERS,
  type EdgeConfig,
  type EdgeConfigInput,
  type ReaderConfig,
  type ReaderDriverKind,
  type SimulatedSettingsConfig,
} from './config.ts';
export { TypedEmitter, type Listenable } from './events.ts';
export { edgeMetrics, type EdgeMetrics } from './metrics.ts';
export { MemoryOutbox } from './outbox/memory.ts';
export type { Outbox, PendingBatch } from './outbox/outbox.ts';
export {
  PresenceTracker,
  type IgnoredRead,
  type PresenceEvents,
  type PresenceOptions,
  type PresenceReader,
  type ReaderHealth,
} from './presence.ts';
export type { ReaderConnection, ReaderDriver, ReaderEvents, RoundDone, TagRead } from './readers/driver.ts';
export { createReaderDriver } from './readers/factory.ts';
export { SimulatedReader, type SimulatedReaderOptions } from './readers/simulated.ts';
export { openEdgeDb, SqliteBatchSequence, type BatchSequence, type EdgeDb } from './seq.ts';
export { Uplink, type UplinkEvents, type UplinkOptions } from './uplink.ts';
