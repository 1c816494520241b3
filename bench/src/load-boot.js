// Worker threads do not inherit the main thread's module hooks: register tsx here so the load worker
// can load the TypeScript sources like the main thread does, then run the entry named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
