/** ingestWorkers: how many worker threads (shards of the sites) ingest runs on; validated at start. */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MAX_INGEST_SHARDS } from '@pledgewatch/ingest';
import { tempDir } from '@pledgewatch/common/testing';
import { describe, expect, it } from 'vitest';
import { autoIngestWorkers, loadCentralConfig, MAX_INGEST_WORKERS } from '../src/config.ts';
import { configProblems } from './fixtures.ts';

const problems = configProblems;

describe('ingestWorkers', () => {
  it('is auto by default: 2 on the embedded broker with two cores or more, else 1', () => {
    expect([autoIngestWorkers(false, 1), autoIngestWorkers(false, 2), autoIngestWorkers(false, 16)]).toEqual([1, 2, 2]);
    // Each further shard needs a broker account of its own on an external broker.
    expect(autoIngestWorkers(true, 16)).toBe(1);
    expect(loadCentralConfig({ env: {} }).ingestWorkers).toBe(autoIngestWorkers(false, availableParallelism()));
    expect(loadCentralConfig({ env: { PW_MQTT_URL: 'mqtt://pw-ingest:x@broker:1883' } }).ingestWorkers).toBe(1);
    expect(loadCentralConfig({ env: { PW_INGEST_WORKERS: 'auto' } }).ingestWorkers).toBe(autoIngestWorkers(false, availableParallelism()));
  });

  it('is read from the environment, a flag or the config file', () => {
    expect(loadCentralConfig({ env: { PW_INGEST_WORKERS: '3' } }).ingestWorkers).toBe(3);
    expect(loadCentralConfig({ env: { PW_INGEST_WORKERS: '3' }, flags: { ingestWorkers: '32' } }).ingestWorkers).toBe(32);
    const dir = tempDir('pw-config-');
    try {
      writeFileSync(dir.file('pw.json'), JSON.stringify({ ingestWorkers: 4, mqttUrl: 'mqtt://pw-ingest:x@broker:1883' }));
      expect(loadCentralConfig({ file: dir.file('pw.json') }).ingestWorkers).toBe(4);
    } finally {
      dir.remove();
    }
  });

  it('stops at start naming the key when the value is not auto or 1 to 32', () => {
    for (const bad of ['0', '33', '1.5', 'two', '-1']) {
      expect(problems(() => loadCentralConfig({ env: { PW_INGEST_WORKERS: bad } }))).toEqual([
        `environment PW_INGEST_WORKERS: "${bad}" is not auto or a whole number of worker threads from 1 to 32`,
      ]);
    }
    expect(problems(() => loadCentralConfig({ flags: { ingestWorkers: '0' } }))).toEqual([
      'flag --ingest-workers: "0" is not auto or a whole number of worker threads from 1 to 32',
    ]);
  });

  it('has the same limit as ingest', () => {
    expect(MAX_INGEST_WORKERS).toBe(MAX_INGEST_SHARDS);
  });
});
