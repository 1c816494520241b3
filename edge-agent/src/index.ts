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
  type SerialReaderConfig,
  type SimulatedReaderConfig,
  type SimulatedSettingsConfig,
} from './config.ts';
export { decodeEpc, EpcUriCache, type DecodedEpc, type EpcScheme } from './epc.ts';
export { TypedEmitter, type Listenable } from './events.ts';
export {
  DEVICE_KINDS,
  LOCAL_BROKER_DEFAULTS,
  type CameraDeviceConfig,
  type DeviceConfig,
  type DeviceKind,
  type LocalBrokerConfig,
  type SensorDeviceConfig,
  type TrackerDeviceConfig,
} from './local-broker/config.ts';
export { LocalBroker, type LocalBrokerMetrics, type LocalBrokerOptions } from './local-broker/broker.ts';
export { deviceRoute, MAX_PAYLOAD_BYTES, REJECT_REASONS, toEvent, type DeviceRoute, type RejectReason, type Translation } from './local-broker/messages.ts';
export { edgeMetrics, type EdgeMetrics, type MetricSources } from './metrics.ts';
export { METRICS_DEFAULTS, MetricsServer, type MetricsServerOptions, type MetricsSettings } from './metrics-server.ts';
export type { Outbox, OutboxEvents, PendingBatch } from './outbox/outbox.ts';
export { SqliteOutbox, type SqliteOutboxOptions } from './outbox/sqlite.ts';
export { SqlitePresenceStore, type PresenceStore } from './presence-store.ts';
export {
  PresenceTracker,
  type IgnoredRead,
  type PresenceChanges,
  type PresenceRecord,
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
export { SerialReader, type SerialOpenSettings, type SerialPortLike, type SerialReaderOptions } from './readers/serial/driver.ts';
export { LineFormat, MAX_LINE_BYTES, type LineRejection, type ParsedLine } from './readers/serial/line-format.ts';
export { BAUD_RATES, SERIAL_DEFAULTS, type SerialLineFormat, type SerialSettingsConfig } from './readers/serial/settings.ts';
export { SimulatedReader, type SimulatedReaderOptions } from './readers/simulated.ts';
export { openEdgeDb, SqliteBatchSequence, type BatchSequence, type EdgeDb } from './seq.ts';
export { Uplink, type UplinkEvents, type UplinkOptions } from './uplink.ts';
