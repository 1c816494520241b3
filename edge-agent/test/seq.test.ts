import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEdgeDb, SqliteBatchSequence } from '../src/index.ts';
import { tempDir } from './helpers.ts';

describe('batch sequence', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('rises strictly and continues after the file is reopened', () => {
    const dir = tempDir();
    dirs.push(dir);
    const dataDir = join(dir.path, 'nested', 'data');
    const db = openEdgeDb(dataDir);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const seq = new SqliteBatchSequence(db);
    expect([seq.next(), seq.next(), seq.next()]).toEqual([1, 2, 3]);
    db.close();
    expect(existsSync(join(dataDir, 'edge.db'))).toBe(true);

    const reopened = openEdgeDb(dataDir);
    const again = new SqliteBatchSequence(reopened);
    expect(again.next()).toBe(4);
    reopened.close();
  });
});
