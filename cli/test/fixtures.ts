/** A copper pledge as a lender registers it; tests override what they check. */
import type { PledgeRegistrationBody } from '@pledgewatch/common';
import { ConfigError } from '../src/config.ts';

export function copperPledge(over: Partial<PledgeRegistrationBody> & Pick<PledgeRegistrationBody, 'id' | 'siteId'>): PledgeRegistrationBody {
  return {
    borrower: 'Test Metals',
    zones: ['A1'],
    commodity: 'copper-cathode',
    unit: 't',
    items: [{ epc: '3034257BF7194E4000001A85', quantity: 2.5 }],
    loan: { outstanding: 250_000, currency: 'USD' },
    haircut: 0.15,
    limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
    ...over,
  };
}

/** The problems a configuration load reports (none: []); any other error is a test failure. */
export function configProblems(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
