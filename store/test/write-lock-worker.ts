/** A thread for write-lock.test.ts: does what `workerData.mode` says with the shared lock. */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, writeTx } from '../src/sqlite/db.ts';
import { WriteLock } from '../src/sqlite/write-lock.ts';

export interface LockWorkerData {
  entry: string;
  mode: 'counter' | 'hold' | 'take' | 'sqlite';
  lock: SharedArrayBuffer;
  shared?: SharedArrayBuffer;
  id?: number;
  n?: number;
  staleMs?: number;
  path?: string;
}

const data = workerData as LockWorkerData;
const port = parentPort;
if (port === null) throw new Error('write-lock-worker runs in a worker thread');
const lock = new WriteLock(data.lock, data.staleMs);
const cells = new Int32Array(data.shared ?? new SharedArrayBuffer(4));
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const id = data.id ?? 0;
const n = data.n ?? 0;

switch (data.mode) {
  case 'counter':
    // All threads start at once (cells[1] turns 1), then read, sleep, write back: without mutual
    // exclusion, increments get lost.
    port.postMessage('ready');
    Atomics.wait(cells, 1, 0);
    for (let i = 0; i < n; i++) {
      lock.run(() => {
        const v = cells[0] ?? 0;
        sleepMs(0.05);
        cells[0] = v + 1;
      });
    }
    break;
  case 'hold':
    // Takes the lock and keeps it until cells[0] turns 1 (or for ever).
    lock.run(() => {
      port.postMessage('holding');
      Atomics.wait(cells, 0, 0);
    });
    break;
  case 'take':
    // Takes the lock once and records its turn: cells[1] counts turns, cells[2 + turn] = id.
    lock.run(() => {
      const turn = Atomics.add(cells, 1, 1);
      cells[2 + turn] = id;
    });
    break;
  case 'sqlite': {
    // Commits n write transactions with SQLite's busy timeout off: any meeting of two writers fails.
    const db = openDatabase(data.path ?? '', 'series', data.lock);
    db.pragma('busy_timeout = 0');
    const insert = db.prepare<[number, number]>('INSERT INTO lock_test (writer, i) VALUES (?, ?)');
    const put = writeTx(db, (i: number) => insert.run(id, i));
    let busy = 0;
    // All writers start at once: each says it is ready and waits for cells[0] to turn 1.
    port.postMessage('ready');
    Atomics.wait(cells, 0, 0);
    for (let i = 0; i < n; i++) {
      try {
        put(i);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'SQLITE_BUSY') busy++;
        else throw err;
      }
    }
    db.close();
    port.postMessage({ busy });
    break;
  }
}
port.postMessage('done');
