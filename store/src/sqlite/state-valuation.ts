/** FX rates: the newest per currency pair. */
import type { FxRate } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { later, type Db } from './db.ts';
import { toMs } from './time.ts';

type ValuationOps = Pick<StateStore, 'putFxRate' | 'getFxRate'>;

export function valuationOps(db: Db): ValuationOps {
  // Only a newer rate replaces the stored one: feeds may deliver out of order.
  const upsert = db.prepare<[string, string, number, string]>(
    `INSERT INTO fx_rates (base, quote, at, body) VALUES (?, ?, ?, ?)
     ON CONFLICT (base, quote) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > fx_rates.at`,
  );
  const get = db.prepare<[string, string], string>('SELECT body FROM fx_rates WHERE base = ? AND quote = ?').pluck();
  return {
    putFxRate: (rate) => later(() => upsert.run(rate.base, rate.quote, toMs(rate.at, 'at'), JSON.stringify(rate)).changes === 1),
    getFxRate: (base, quote) =>
      later(() => {
        const body = get.get(base, quote);
        return body === undefined ? null : (JSON.parse(body) as FxRate);
      }),
  };
}
