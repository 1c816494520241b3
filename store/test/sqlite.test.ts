import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { openSqliteSeries, openSqliteState } from '../src/index.ts';
import { describeSeriesStoreContract } from './series-contract.ts';
import { describeStateStoreContract } from './state-contract.ts';

/** A temp directory handing out one fresh database file per `next()`, removed after the file's tests. */
function tempFiles(prefix: string): { next(): string; last(): string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let count = 0;
  return {
    next: () => path.join(dir, `db-${++count}.sqlite`),
    last: () => path.join(dir, `db-${count}.sqlite`),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

describe('sqlite adapters on files', () => {
  const files = tempFiles('pw-store-');
  afterAll(() => files.remove());

  describeStateStoreContract('sqlite', () => Promise.resolve(openSqliteState({ path: files.next() })), {
    reopen: () => Promise.resolve(openSqliteState({ path: files.last() })),
  });

  describeSeriesStoreContract('sqlite', () => Promise.resolve(openSqliteSeries({ path: files.next() })), {
    reopen: () => Promise.resolve(openSqliteSeries({ path: files.last() })),
  });
});

describe('sqlite adapters in memory', () => {
  describeStateStoreContract('sqlite :memory:', () => Promise.resolve(openSqliteState({ path: ':memory:' })));
  describeSeriesStoreContract('sqlite :memory:', () => Promise.resolve(openSqliteSeries({ path: ':memory:' })));
});
