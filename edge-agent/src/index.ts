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
  type LlrpReaderConfig,
  type ReaderConfig,
  type ReaderDriverKind,
  type SimulatedReaderConfig,
  type SimulatedSettingsConfig,
} from './config.ts';
export { TypedEmitter, type Listenable } from './events.ts';
export { edgeMetrics, type EdgeMetrics } from './metrics.ts';
export type { Outbox, OutboxEvents, PendingBatch } from './outbox/outbox.ts';
export { SqliteOutbox, type SqliteOutboxOptions } from './outbox/sqlite.ts';
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
export * as llrp from './readers/llrp/codec.ts';
export { backoffDelay, LlrpReader, type LlrpReaderOptions } from './readers/llrp/driver.ts';
export { LlrpStatusError } from './readers/llrp/session.ts';
export { LLRP_DEFAULTS, type LlrpSettingsConfig } from './readers/llrp/settings.ts';
export { SimulatedReader, type SimulatedReaderOptions } from './readers/simulated.ts';
export { openEdgeDb, SqliteBatchSequence, type BatchSequence, type EdgeDb } from './seq.ts';
export { Uplink, type UplinkEvents, type UplinkOptions } from './uplink.ts';
