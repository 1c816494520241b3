/** The SQLite webhook store against the shared contract, on a file (with a restart) and in memory. */
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { openSqliteWebhooks } from '../src/index.ts';
import { describeWebhookStoreContract } from './webhook-contract.ts';

describe('sqlite webhook store', () => {
  let dir: TempDir;
  let count = 0;
  beforeAll(() => {
    dir = tempDir('pw-webhook-store-');
  });
  afterAll(() => dir.remove());

  describeWebhookStoreContract('sqlite', () => Promise.resolve(openSqliteWebhooks({ path: dir.file(`state-${++count}.db`) })), {
    reopen: () => Promise.resolve(openSqliteWebhooks({ path: dir.file(`state-${count}.db`) })),
  });
  describeWebhookStoreContract('sqlite :memory:', () => Promise.resolve(openSqliteWebhooks({ path: ':memory:' })));
});
