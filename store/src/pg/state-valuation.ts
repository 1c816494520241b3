/** FX rates: the newest per currency pair. */
import { auditEntry, type FxRate } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import { appendAuditToCurrencyPair } from './audit.ts';
import { lockOutbox, transaction, type Pool } from './db.ts';

type ValuationOps = Pick<StateStore, 'putFxRate' | 'getFxRate' | 'listFxRates'>;

export function valuationOps(pool: Pool): ValuationOps {
  return {
    // Only a newer rate replaces the stored one: feeds may deliver out of order. A new one is recorded
    // in the chain of every pledge valued through it, under the outbox lock (see pg/audit.ts).
    putFxRate: (rate) =>
      transaction(pool, async (c) => {
        await lockOutbox(c);
        const before = await c.query<{ body: string }>('SELECT body FROM fx_rates WHERE base = $1 AND quote = $2', [rate.base, rate.quote]);
        const { rowCount } = await c.query(
          `INSERT INTO fx_rates (base, quote, at, body) VALUES ($1, $2, $3, $4)
           ON CONFLICT (base, quote) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > fx_rates.at`,
          [rate.base, rate.quote, toMs(rate.at, 'at'), JSON.stringify(rate)],
        );
        if (rowCount !== 1) return false;
        const previous = before.rows[0] === undefined ? null : (JSON.parse(before.rows[0].body) as FxRate);
        const entry = auditEntry.fxRate(rate, previous);
        if (entry !== null) await appendAuditToCurrencyPair(c, rate.base, rate.quote, entry);
        return true;
      }),
    getFxRate: async (base, quote) => {
      const { rows } = await pool.query<{ body: string }>('SELECT body FROM fx_rates WHERE base = $1 AND quote = $2', [base, quote]);
      return rows[0] === undefined ? null : (JSON.parse(rows[0].body) as FxRate);
    },
    listFxRates: async () =>
      (await pool.query<{ body: string }>('SELECT body FROM fx_rates ORDER BY base COLLATE "C", quote COLLATE "C"')).rows.map(
        (r) => JSON.parse(r.body) as FxRate,
      ),
  };
}
