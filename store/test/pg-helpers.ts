/** The store's suites take PostgreSQL from the helper other workspaces' suites use too. */
import { suiteTitle } from '@pledgewatch/common/testing-servers';
import { afterAll, beforeAll, describe } from 'vitest';
import { postgresAvailable, postgresForTests, type PostgresForTests } from '../src/testing.ts';

export { postgresAvailable, postgresForTests, type PostgresForTests };

/** Fresh databases on the suite's server: `fresh()` makes one, `last()` is the URL of the latest. */
export interface Databases {
  fresh(): Promise<string>;
  last(): string;
}

/** A describe block on a real PostgreSQL server (skipped without one, failing instead in CI). */
export function describeOnPostgres(title: string, body: (db: Databases) => void): void {
  describe.skipIf(!postgresAvailable.ok)(suiteTitle(title, postgresAvailable), () => {
    let server: PostgresForTests;
    let last = '';
    beforeAll(async () => {
      server = await postgresForTests();
    }, 60_000);
    afterAll(async () => {
      await server.close();
    });
    body({ fresh: async () => (last = await server.createDatabase()), last: () => last });
  });
}
