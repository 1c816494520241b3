/** The SQLite outbox on real edge.db files: order, acks, restarts, the seq, and the byte and age bounds. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, type UplinkEvent } from '@pledgewatch/common';
import { checkEdgeConfig, openEdgeDb, SqliteBatchSequence, SqliteOutbox, type OutboxEvents, type SqliteOutboxOptions } from '../src/index.ts';
import { silentLogger, tempDir } from './helpers.ts';

const HOUR = 3_600_000;
const event = (n: number): UplinkEvent => ({ type: 'reader.status', at: '2026-11-28T20:00:00.000Z', readerId: `r${n}`, connected: true });
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));
const bytesOf = (batch: UplinkEvent[]) => Buffer.byteLength(JSON.stringify(batch));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('sqlite outbox', () => {
  const dirs: { remove: () => void }[] = [];
  const open: SqliteOutbox[] = [];
  afterEach(() => {
    open.splice(0).forEach((o) => o.close());
    dirs.splice(0).forEach((d) => d.remove());
  });

  function setup(bounds: Partial<Pick<SqliteOutboxOptions, 'maxBytes' | 'maxAgeMs'>> = {}) {
    const dir = tempDir();
    dirs.push(dir);
    const clock = new FakeClock();
    const drops: OutboxEvents['dropped'][] = [];
    const openOutbox = () => {
      const outbox = new SqliteOutbox({ dataDir: dir.path, maxBytes: 1 << 20, maxAgeMs: 24 * HOUR, ...bounds, clock, logger: silentLogger() });
      outbox.on('dropped', (d) => drops.push(d));
      outbox.open();
      open.push(outbox);
      return outbox;
    };
    const reopen = (outbox: SqliteOutbox) => {
      outbox.close();
      open.splice(open.indexOf(outbox), 1);
      return openOutbox();
    };
    return { dir: dir.path, clock, drops, outbox: openOutbox(), reopen };
  }

  it('numbers batches, hands them out oldest first, forgets acknowledged ones and re-offers released ones first', () => {
    const { outbox } = setup();
    expect([outbox.append(events(0, 2)), outbox.append(events(2, 1)), outbox.append(events(3, 1))]).toEqual([1, 2, 3]);
    expect(outbox.depth).toBe(4);
    expect(outbox.take()).toEqual({ seq: 1, events: events(0, 2) });
    expect(outbox.take()?.seq).toBe(2);
    outbox.release(1);
    outbox.ack(2);
    expect(outbox.depth).toBe(3);
    expect(outbox.take()?.seq).toBe(1);
    expect(outbox.take()).toEqual({ seq: 3, events: events(3, 1) });
    expect(outbox.take()).toBeUndefined();
    outbox.ack(1);
    outbox.ack(3);
    outbox.ack(3); // a second ack (a QoS 1 redelivery) changes nothing
    expect(outbox.depth).toBe(0);
    expect(outbox.append(events(4, 1))).toBe(4);
    expect(outbox.take()?.seq).toBe(4);
  });

  it('after a reopen re-sends what was in flight or waiting, and deletes what was acknowledged', async () => {
    const { outbox, reopen, dir } = setup();
    for (let i = 0; i < 4; i++) outbox.append(events(i, 1));
    outbox.take();
    outbox.take();
    outbox.take();
    outbox.ack(1);
    outbox.ack(3);
    await tick();
    const rows = new Database(join(dir, 'edge.db'), { readonly: true });
    expect(rows.prepare('SELECT seq FROM outbox ORDER BY seq').all()).toEqual([{ seq: 2 }, { seq: 4 }]);
    rows.close();

    const again = reopen(outbox);
    expect(again.depth).toBe(2);
    expect(again.take()).toEqual({ seq: 2, events: events(1, 1) });
    expect(again.take()).toEqual({ seq: 4, events: events(3, 1) });
    expect(again.take()).toBeUndefined();
    again.ack(2); // deleted by close(), without waiting for the deferred delete
    const third = reopen(again);
    expect(third.take()?.seq).toBe(4);
  });

  it('keeps the seq strictly rising across reopens, continuing a seq-only edge.db', () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = openEdgeDb(dir.path);
    const legacy = new SqliteBatchSequence(db);
    for (let i = 0; i < 5; i++) legacy.next();
    db.close();

    const clock = new FakeClock();
    const make = () => {
      const o = new SqliteOutbox({ dataDir: dir.path, maxBytes: 1 << 20, maxAgeMs: HOUR, clock, logger: silentLogger() });
      o.open();
      return o;
    };
    const first = make();
    expect(first.append(events(0, 1))).toBe(6);
    first.take();
    first.ack(6);
    first.close();
    const second = make();
    expect(second.depth).toBe(0);
    expect([second.append(events(1, 1)), second.append(events(2, 1))]).toEqual([7, 8]);
    second.close();
  });

  it('takes the seq in the same commit as the batch: a failed write uses no seq and counts as dropped', () => {
    const { outbox, dir } = setup();
    expect(outbox.append(events(0, 1))).toBe(1);
    // Another connection makes the next insert of a 3-event batch fail, as a full disk would.
    const other = new Database(join(dir, 'edge.db'));
    other.exec(`CREATE TRIGGER fail BEFORE INSERT ON outbox WHEN NEW.event_count = 3 BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    other.close();
    expect(() => outbox.append(events(1, 3))).toThrow(/disk full/);
    expect(outbox.dropped).toBe(3);
    expect(outbox.depth).toBe(1);
    expect(outbox.append(events(4, 1))).toBe(2);
    expect([outbox.take()?.seq, outbox.take()?.seq, outbox.take()]).toEqual([1, 2, undefined]);
  });

  it('past the byte bound drops the oldest waiting batches, never one in flight nor the newest, and persists the count', () => {
    const batchBytes = bytesOf(events(0, 2));
    const { outbox, drops, reopen } = setup({ maxBytes: 3 * batchBytes });
    outbox.append(events(0, 2)); // seq 1
    outbox.append(events(2, 2)); // seq 2
    outbox.append(events(4, 2)); // seq 3
    expect(outbox.dropped).toBe(0);
    expect(outbox.take()?.seq).toBe(1);
    outbox.append(events(6, 2)); // seq 4: over by one batch; 1 is in flight, so 2 goes
    expect(drops).toEqual([{ events: 2, batches: 1, reason: 'full' }]);
    expect(outbox.depth).toBe(6);
    expect(outbox.take()?.seq).toBe(3);

    // A batch bigger than the whole bound is still kept: it is the freshest picture.
    outbox.append(events(10, 8)); // seq 5
    expect(drops.at(-1)).toEqual({ events: 2, batches: 1, reason: 'full' }); // 4 went; 1 and 3 are in flight
    expect(outbox.dropped).toBe(4);
    expect(outbox.take()?.seq).toBe(5);

    const again = reopen(outbox);
    expect(again.dropped).toBe(4);
    // Nothing is in flight after a restart: 1, 3 and 5 (no longer the newest) all go.
    again.append(events(20, 1)); // seq 6
    expect(again.dropped).toBe(4 + 4 + 8);
    expect([again.take()?.seq, again.take()]).toEqual([6, undefined]);
    expect(reopen(again).dropped).toBe(16);
  });

  it('drops batches past the age bound, on append, at open and before sending, and persists the count', () => {
    const { outbox, clock, drops, reopen } = setup({ maxAgeMs: 10 * HOUR });
    outbox.append(events(0, 1)); // seq 1 at 0 h
    clock.advance(4 * HOUR);
    outbox.append(events(1, 2)); // seq 2 at 4 h
    clock.advance(4 * HOUR);
    outbox.append(events(3, 3)); // seq 3 at 8 h
    clock.advance(3 * HOUR); // 11 h: seq 1 has expired
    outbox.append(events(6, 1)); // seq 4
    expect(drops).toEqual([{ events: 1, batches: 1, reason: 'expired' }]);

    clock.advance(4 * HOUR); // 15 h: seq 2 has expired, nothing appended since
    expect(outbox.take()?.seq).toBe(3);
    expect(outbox.dropped).toBe(3);
    expect(drops.at(-1)).toEqual({ events: 2, batches: 1, reason: 'expired' });

    clock.advance(20 * HOUR); // everything has expired while the gateway was off
    const again = reopen(outbox);
    expect(again.depth).toBe(0);
    expect(again.dropped).toBe(3 + 3 + 1);
    expect(again.take()).toBeUndefined();
  });
});

describe('outbox config', () => {
  const minimal = { gatewayId: 'gw-01', dataDir: '/tmp/pw', uplink: { url: 'mqtt://127.0.0.1:1883' }, readers: [] };

  it('defaults to 256 MiB and 7 days, and names a bad key', () => {
    expect(checkEdgeConfig(minimal).outbox).toEqual({ maxBytes: 256 * 1024 * 1024, maxAgeS: 7 * 24 * 3600 });
    expect(checkEdgeConfig({ ...minimal, outbox: { maxAgeS: 60 } }).outbox).toEqual({ maxBytes: 256 * 1024 * 1024, maxAgeS: 60 });
    expect(() => checkEdgeConfig({ ...minimal, outbox: { maxBytes: 10, maxAgeS: 0 } })).toThrow(/outbox\/maxBytes.*outbox\/maxAgeS|outbox\/maxAgeS.*outbox\/maxBytes/);
  });
});
