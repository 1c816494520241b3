export { createIngest, type Ingest, type IngestOptions } from './ingest.ts';
export { mqttConnection, type BrokerConnection, type InboundMessage, type MqttConnectionOptions } from './connection.ts';
export { startEmbeddedBroker, mayPublish, type EmbeddedBroker, type BrokerOptions } from './broker/embedded.ts';
export { generatePassword, hashPassword, verifyPassword } from './broker/passwords.ts';
export { startIngestWorker, type IngestWorker, type IngestWorkerHostOptions } from './worker/host.ts';
export type { IngestWorkerOptions } from './worker/protocol.ts';
