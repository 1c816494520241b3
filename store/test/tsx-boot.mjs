// Worker threads do not inherit the main thread's module hooks: tsx is registered here, then the
// TypeScript entry named in workerData runs (as ingest's worker boot does).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
