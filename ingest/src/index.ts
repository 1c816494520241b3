export { createIngest, type Ingest, type IngestOptions } from './ingest.ts';
export { mqttConnection, type BrokerConnection, type InboundMessage, type MessageHandler, type MqttConnectionOptions } from './connection.ts';
export { startEmbeddedBroker, mayPublish, type EmbeddedBroker, type BrokerOptions } from './broker/embedded.ts';
export { generatePassword, hashPassword, verifyPassword } from './broker/passwords.ts';
export { aclRules, mosquittoHash, upsertMosquittoAccount, type BrokerRole, type MosquittoFiles } from './broker/mosquitto-files.ts';
export { seriesMetrics } from './series-metrics.ts';
export { startIngestWorker, type IngestWorker, type IngestWorkerHostOptions } from './worker/host.ts';
export type { IngestWorkerOptions } from './worker/protocol.ts';
export { DEFAULT_RULE_SETTINGS, RuleSettings, ruleConfig, type RuleConfig, type RuleSettingsT } from './rules/config.ts';
