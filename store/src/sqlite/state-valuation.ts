/** FX rates: the newest per currency pair. */
import { auditEntry, type FxRate } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import type { AuditWriter } from './audit.ts';
import { later, writeTx, type Db } from './db.ts';
import { toMs } from './time.ts';

type ValuationOps = Pick<StateStore, 'putFxRate' | 'getFxRate' | 'listFxRates'>;

export function valuationOps(db: Db, audit: AuditWriter): ValuationOps {
  // Only a newer rate replaces the stored one: feeds may deliver out of order.
  const upsert = db.prepare<[string, string, number, string]>(
    `INSERT INTO fx_rates (base, quote, at, body) VALUES (?, ?, ?, ?)
     ON CONFLICT (base, quote) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > fx_rates.at`,
  );
  const get = db.prepare<[string, string], string>('SELECT body FROM fx_rates WHERE base = ? AND quote = ?').pluck();
  const all = db.prepare<[], string>('SELECT body FROM fx_rates ORDER BY base, quote').pluck();
  // A new rate is recorded, in the same transaction, in the chain of every pledge valued through it.
  const put = writeTx(db, (rate: FxRate): boolean => {
    const previous = get.get(rate.base, rate.quote);
    if (upsert.run(rate.base, rate.quote, toMs(rate.at, 'at'), JSON.stringify(rate)).changes === 0) return false;
    const entry = auditEntry.fxRate(rate, previous === undefined ? null : (JSON.parse(previous) as FxRate));
    if (entry !== null) audit.appendToCurrencyPair(rate.base, rate.quote, entry);
    return true;
  });
  return {
    putFxRate: (rate) => later(() => put(rate)),
    getFxRate: (base, quote) =>
      later(() => {
        const body = get.get(base, quote);
        return body === undefined ? null : (JSON.parse(body) as FxRate);
      }),
    listFxRates: () => later(() => all.all().map((body) => JSON.parse(body) as FxRate)),
  };
}
