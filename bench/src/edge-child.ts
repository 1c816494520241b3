/**
 * The edge agent of `npm run bench -- edge`, alone in its process so its CPU time and RSS are its
 * own: started by bench/src/edge.ts with an IPC channel, it runs the agent from the config file in
 * argv and answers `sample` with its resource usage and the reads it has taken so far.
 */
import { pino } from 'pino';
import { createEdgeAgent, loadEdgeConfig } from '@pledgewatch/edge-agent';

export interface EdgeSample {
  /** process.cpuUsage(): user + system µs, every thread of the process */
  cpuMicros: number;
  rssBytes: number;
  /** V8 heap in use on the main thread: the agent's own objects (and garbage not yet collected) */
  heapUsedBytes: number;
  /** pw_edge_reads_total summed over readers */
  reads: number;
  /** performance.now() of the child when sampled */
  at: number;
}

export type ParentMessage = { kind: 'sample' } | { kind: 'stop' };
export type ChildMessage = { kind: 'started' } | { kind: 'sample'; sample: EdgeSample } | { kind: 'stopped' };

const configPath = process.argv[2];
if (configPath === undefined || process.send === undefined) throw new Error('run by bench/src/edge.ts: edge-child.ts CONFIG.json, with an IPC channel');
const send = (message: ChildMessage) => process.send?.(message);

const logger = pino({ level: process.env.PW_LOG_LEVEL ?? 'warn' }, pino.destination(2));
const agent = createEdgeAgent({ config: loadEdgeConfig(configPath), logger });
await agent.start();

process.on('message', (message: ParentMessage) => {
  if (message.kind === 'sample') {
    void agent.metrics.reads.get().then((reads) => {
      const cpu = process.cpuUsage();
      const total = reads.values.reduce((sum, v) => sum + v.value, 0);
      const memory = process.memoryUsage();
      const sample: EdgeSample = { cpuMicros: cpu.user + cpu.system, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, reads: total, at: performance.now() };
      send({ kind: 'sample', sample });
    });
  } else {
    void agent.stop().then(() => {
      send({ kind: 'stopped' });
      process.disconnect();
    });
  }
});
send({ kind: 'started' });
