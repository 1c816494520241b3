/** FX rates: the newest per currency pair. */
import type { FxRate } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import type { Pool } from './db.ts';

type ValuationOps = Pick<StateStore, 'putFxRate' | 'getFxRate'>;

export function valuationOps(pool: Pool): ValuationOps {
  return {
    // Only a newer rate replaces the stored one: feeds may deliver out of order.
    putFxRate: async (rate) => {
      const { rowCount } = await pool.query(
        `INSERT INTO fx_rates (base, quote, at, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT (base, quote) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > fx_rates.at`,
        [rate.base, rate.quote, toMs(rate.at, 'at'), JSON.stringify(rate)],
      );
      return rowCount === 1;
    },
    getFxRate: async (base, quote) => {
      const { rows } = await pool.query<{ body: string }>('SELECT body FROM fx_rates WHERE base = $1 AND quote = $2', [base, quote]);
      return rows[0] === undefined ? null : (JSON.parse(rows[0].body) as FxRate);
    },
  };
}
