/**
 * The write lock that orders a process's threads before SQLite's own (write-lock.ts), on real worker
 * threads: mutual exclusion, turns in the order they were asked for, a holder that never lets go,
 * and two SQLite writers that never meet the file's lock.
 */
import { Worker } from 'node:worker_threads';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/sqlite/db.ts';
import { newWriteLock, WriteLock } from '../src/sqlite/write-lock.ts';
import type { LockWorkerData } from './write-lock-worker.ts';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

function start(data: Omit<LockWorkerData, 'entry'>): { worker: Worker; messages: unknown[]; done: Promise<void> } {
  const workerData: LockWorkerData = { ...data, entry: new URL('./write-lock-worker.ts', import.meta.url).href };
  const worker = new Worker(new URL('./tsx-boot.mjs', import.meta.url), { workerData });
  workers.push(worker);
  const messages: unknown[] = [];
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => {
      messages.push(m);
      if (m === 'done') resolve();
    });
    worker.on('error', reject);
  });
  return { worker, messages, done };
}

describe('SQLite write lock', () => {
  it('lets one thread at a time in', async () => {
    const lock = newWriteLock();
    const cells = new Int32Array(new SharedArrayBuffer(8));
    const threads = [0, 1, 2].map((id) => start({ mode: 'counter', lock, shared: cells.buffer, id, n: 300 }));
    await waitFor('all threads ready', () => threads.every((t) => t.messages.includes('ready')));
    Atomics.store(cells, 1, 1);
    Atomics.notify(cells, 1);
    await Promise.all(threads.map((t) => t.done));
    expect(cells[0]).toBe(900);
  });

  it('gives turns in the order they were asked for', async () => {
    const lock = newWriteLock();
    const tickets = new Int32Array(lock);
    const shared = new SharedArrayBuffer(4 * 8);
    const cells = new Int32Array(shared);
    const holder = start({ mode: 'hold', lock, shared, id: 9 });
    await waitFor('the lock held', () => holder.messages.includes('holding'));
    const takers = [];
    for (const id of [3, 1, 2]) {
      takers.push(start({ mode: 'take', lock, shared, id }).done);
      // The next thread asks only once this one has its ticket.
      await waitFor(`thread ${id} waiting its turn`, () => Atomics.load(tickets, 0) === takers.length + 1);
    }
    Atomics.store(cells, 0, 1);
    Atomics.notify(cells, 0);
    await Promise.all([holder.done, ...takers]);
    expect([...cells.slice(2, 5)]).toEqual([3, 1, 2]);
  });

  it('passes on a turn its holder never ends, after the stale time', async () => {
    const lock = newWriteLock();
    const shared = new SharedArrayBuffer(4 * 8);
    const holder = start({ mode: 'hold', lock, shared, id: 9 });
    await waitFor('the lock held', () => holder.messages.includes('holding'));
    await start({ mode: 'take', lock, shared, id: 1, staleMs: 200 }).done;
    expect(new Int32Array(shared)[2]).toBe(1);
  });

  it('runs a write inside a write in the outer one\'s turn', () => {
    const lock = new WriteLock(newWriteLock());
    expect(lock.run(() => lock.run(() => 42))).toBe(42);
    // …and the lock is free again afterwards.
    expect(lock.run(() => 'again')).toBe('again');
  });

  it('keeps two SQLite writers of one file from ever meeting its lock', async () => {
    const dir = tempDir('pw-write-lock-');
    try {
      const path = dir.file('lock.db');
      openDatabase(path, 'series').close();
      const setup = new Database(path);
      setup.exec('CREATE TABLE lock_test (writer INTEGER, i INTEGER)');
      const lock = newWriteLock();
      const go = new Int32Array(new SharedArrayBuffer(4));
      const writers = [1, 2].map((id) => start({ mode: 'sqlite', lock, shared: go.buffer, id, n: 1000, path }));
      await waitFor('both writers ready', () => writers.every((w) => w.messages.includes('ready')));
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
      await Promise.all(writers.map((w) => w.done));
      expect(writers.map((w) => w.messages.find((m) => typeof m === 'object'))).toEqual([{ busy: 0 }, { busy: 0 }]);
      expect(setup.prepare('SELECT count(*) FROM lock_test').pluck().get()).toBe(2000);
      setup.close();
    } finally {
      dir.remove();
    }
  });
});
