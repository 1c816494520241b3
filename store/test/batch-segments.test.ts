import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteState } from '../src/index.ts';
import { BatchSegments } from '../src/sqlite/batch-segments.ts';
import { at } from './fixtures.ts';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-segments-');
});
afterEach(() => dir.remove());

const body = (n: number) => Buffer.from(JSON.stringify({ v: 1, gatewayId: 'gw-1', seq: n, events: Array.from({ length: n }, (_, i) => ({ i })) }));
const segmentFiles = (path: string) => readdirSync(path).filter((f) => f.endsWith('.seg')).sort();

describe('BatchSegments', () => {
  it('reads back what it appended, and says why when it cannot', () => {
    const segs = new BatchSegments(dir.file('log'));
    const refs = [1, 2, 3].map((n) => segs.append(body(n)));
    expect(refs.map((r) => (segs.read(r) as Buffer).toString())).toEqual([1, 2, 3].map((n) => body(n).toString()));
    segs.close();

    const file = join(dir.file('log'), refs[1]?.segment ?? '');
    const bytes = readFileSync(file);
    const flipAt = (refs[1]?.offset ?? 0) + 12; // a payload byte
    bytes.writeUInt8(bytes.readUInt8(flipAt) ^ 0xff, flipAt);
    writeFileSync(file, bytes);
    const failure = (r: unknown) => (segs.read(r as never) as Error).message;
    expect(failure(refs[1])).toContain('checksum mismatch');
    writeFileSync(file, bytes.subarray(0, (refs[2]?.offset ?? 0) + 10)); // a torn last record
    expect(failure(refs[2])).toContain('cut short');
    expect((segs.read(refs[0] as never) as Buffer).toString()).toBe(body(1).toString());
    expect(failure({ segment: 'nope.seg', offset: 0 })).toContain('missing');
  });

  it('prunes its own segments no batch needs, and another writer’s only once stale', () => {
    const path = dir.file('log');
    const mine = new BatchSegments(path, 1); // one record per segment
    const other = new BatchSegments(path, 1);
    const [, b, c] = [1, 2, 3].map((n) => mine.append(body(n)).segment);
    const [fresh, stale] = [1, 2].map((n) => other.append(body(n)).segment);
    other.close();
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(path, stale ?? ''), old, old);

    mine.prune(new Set([b ?? '']));
    // a: retired; c: the segment being written; b: still needed; another writer's: only the stale one goes
    expect(segmentFiles(path)).toEqual([b, c, fresh].sort());
    mine.close();
  });
});

describe('the SQLite state store’s batch log', () => {
  const batch = (seq: number) => ({ gatewayId: 'gw-1', seq, appliedAt: at(seq), payload: body(seq) });

  it('keeps payloads in segment files, deletes a segment once its batches are checkpointed, and keeps the rest across a reopen', async () => {
    const path = dir.file('state.db');
    const store = openSqliteState({ path, batchSegmentBytes: 1 });
    for (const n of [1, 2, 3, 4]) expect(await store.commitBatch(batch(n))).toBe(true);
    // A redelivered batch is refused and writes nothing.
    expect(await store.commitBatch(batch(2))).toBe(false);
    expect(segmentFiles(`${path}.batches`)).toHaveLength(4);

    await store.checkpoint({ tags: [], readers: [], batches: [1, 2].map((seq) => ({ gatewayId: 'gw-1', seq })) });
    expect(segmentFiles(`${path}.batches`)).toHaveLength(2);
    await store.close();

    const reopened = openSqliteState({ path });
    const pending = await reopened.pendingBatches();
    expect(pending.map((p) => [p.seq, p.payload.toString()])).toEqual([3, 4].map((n) => [n, body(n).toString()]));
    await reopened.close();
  });

  it('does not count a batch as applied when its payload cannot be written: its redelivery is taken', async () => {
    const path = dir.file('state.db');
    const store = openSqliteState({ path, batchSegmentBytes: 1 });
    expect(await store.commitBatch(batch(1))).toBe(true);
    // The next segment cannot be created: a file of its name is in the way.
    const [first] = segmentFiles(`${path}.batches`);
    const next = join(`${path}.batches`, (first ?? '').replace('000001.seg', '000002.seg'));
    writeFileSync(next, '');
    await expect(store.commitBatch(batch(2))).rejects.toThrow(/EEXIST/);
    rmSync(next);
    expect(await store.commitBatch(batch(2))).toBe(true);
    expect((await store.pendingBatches()).map((p) => p.seq)).toEqual([1, 2]);
    await store.close();
  });

  it('skips a pending batch whose payload cannot be read back, with a warning, and returns the others', async () => {
    const path = dir.file('state.db');
    const store = openSqliteState({ path, batchSegmentBytes: 1 });
    for (const n of [1, 2, 3]) await store.commitBatch(batch(n));
    const [, second] = segmentFiles(`${path}.batches`);
    const file = join(`${path}.batches`, second ?? '');
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect((await store.pendingBatches()).map((p) => p.seq)).toEqual([1, 3]);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('gw-1#2'), { code: 'PW_BATCH_LOG' });
    } finally {
      warn.mockRestore();
      await store.close();
    }
  });

  it('keeps payloads in the row for an in-memory database', async () => {
    const store = openSqliteState({ path: ':memory:' });
    await store.commitBatch(batch(1));
    expect((await store.pendingBatches())[0]?.payload.toString()).toBe(body(1).toString());
    await store.close();
  });
});
