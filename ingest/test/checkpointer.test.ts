import type { TagState } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { openSqliteState, type Checkpoint, type StateStore } from '@pledgewatch/store';
import pino from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Checkpointer, type CheckpointedTag } from '../src/checkpointer.ts';

const log = pino({ level: 'silent' });
const AT = '2026-03-01T08:00:00.000Z';
const tag = (n: number): TagState => ({
  epc: `3034257BF7194E40${n.toString(16).toUpperCase().padStart(8, '0')}`,
  gatewayId: 'gw-1',
  siteId: 'site-1',
  zone: 'A1',
  readerId: 'r1',
  present: true,
  lastSeenAt: AT,
  updatedAt: AT,
});

/** Tags as live state hands them over: one object per tag, whatever its changes. */
const queued = (n: number): CheckpointedTag[] => Array.from({ length: n }, (_, i) => ({ committed: tag(i), pending: false }));

let dir: ReturnType<typeof tempDir>;
let store: StateStore;
let calls: Checkpoint[];
let failAt: number;
/** The real store, with each checkpoint call recorded (and one of them failing on demand). */
let recording: Pick<StateStore, 'checkpoint'>;

beforeEach(() => {
  dir = tempDir('pw-checkpointer-');
  store = openSqliteState({ path: dir.file('state.db') });
  calls = [];
  failAt = -1;
  recording = {
    checkpoint: (c) => {
      calls.push(c);
      if (calls.length - 1 === failAt) return Promise.reject(new Error('disk full'));
      return store.checkpoint(c);
    },
  };
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

async function logBatches(n: number): Promise<{ gatewayId: string; seq: number }[]> {
  const batches = Array.from({ length: n }, (_, i) => ({ gatewayId: 'gw-1', seq: i + 1 }));
  for (const b of batches) await store.commitBatch({ ...b, appliedAt: AT, payload: Buffer.from('{}') });
  return batches;
}

it('writes a large checkpoint in chunks and retires the batches with the last chunk only', async () => {
  const batches = await logBatches(3);
  const cp = new Checkpointer(recording, log, 500, 100);
  const tags = queued(250);
  for (const b of batches) cp.add(b, tags.slice(0, 10), []);
  cp.add(null, tags, [{ gatewayId: 'gw-1', readerId: 'r1', connected: true, at: AT }]);
  await cp.flush();

  expect(calls.map((c) => [c.tags.length, c.readers.length, c.batches.length])).toEqual([
    [100, 0, 0],
    [100, 0, 0],
    [50, 1, 3],
  ]);
  expect((await store.listTags()).length).toBe(250);
  expect(await store.pendingBatches()).toEqual([]);
  expect(cp.pending()).toBe(0);
});

it('keeps everything of a checkpoint that failed midway for the next one', async () => {
  const batches = await logBatches(2);
  const cp = new Checkpointer(recording, log, 500, 100);
  for (const b of batches) cp.add(b, [], []);
  cp.add(null, queued(150), []);
  failAt = 1;
  await cp.flush();
  // The first chunk is written, the batches are still pending (a crash now would replay them).
  expect((await store.listTags()).length).toBe(100);
  expect(await store.pendingBatches()).toHaveLength(2);
  expect(cp.pending()).toBe(2);

  await cp.flush();
  expect((await store.listTags()).length).toBe(150);
  expect(await store.pendingBatches()).toEqual([]);
});

it('lets other work run between chunks', async () => {
  const cp = new Checkpointer(recording, log, 500, 10);
  cp.add(null, queued(100), []);
  let ranDuring = -1;
  setImmediate(() => (ranDuring = calls.length));
  await cp.flush();
  expect(calls).toHaveLength(10);
  expect(ranDuring).toBeGreaterThan(0);
  expect(ranDuring).toBeLessThan(10);
});

it('writes a tag queued many times once, as it stands at the checkpoint, and after a failure as it stands then', async () => {
  const cp = new Checkpointer(recording, log, 500, 100);
  const entry: { committed: TagState; pending: boolean } = { committed: tag(1), pending: false };
  for (let i = 0; i < 5; i++) cp.add(null, [entry], []);
  entry.committed = { ...tag(1), zone: 'B2' };
  failAt = 0;
  await cp.flush();
  expect(calls[0]?.tags).toEqual([{ ...tag(1), zone: 'B2' }]);
  entry.committed = { ...tag(1), zone: 'C3' };
  await cp.flush();
  expect(calls[1]?.tags).toEqual([{ ...tag(1), zone: 'C3' }]);
  expect((await store.listTags()).map((t) => t.zone)).toEqual(['C3']);
  await cp.flush();
  expect(calls).toHaveLength(2);
});
