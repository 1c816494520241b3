/** What ingest keeps current: prices, tag and reader state, and the batches already applied. */
import { auditEntry, type AlertChange, type PriceRecord, type ReaderHealth, type StatusChange, type TagState } from '@pledgewatch/common';
import type { LoggedBatch, StateLiveOps } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import { appendAuditToCommodity } from './audit.ts';
import { lockOutbox, transaction, type Client, type Pool } from './db.ts';
import type { AlertWriter } from './state-alerts.ts';


interface TagRow {
  epc: string;
  gateway_id: string;
  site_id: string;
  zone: string;
  reader_id: string;
  present: boolean;
  last_seen_at: string;
  updated_at: string;
}

interface ReaderRow {
  gateway_id: string;
  reader_id: string;
  connected: boolean;
  at: string;
}

const TAG_COLUMNS = 'epc, gateway_id, site_id, zone, reader_id, present, last_seen_at, updated_at';
/** Rows per upsert statement: one round trip each, well below the protocol's parameter limit. */
const CHUNK = 5_000;

export function liveOps(pool: Pool, writeAlerts: AlertWriter): StateLiveOps {
  const logOne = async (c: Client, batch: LoggedBatch, alerts: readonly AlertChange[], statuses: readonly StatusChange[]): Promise<boolean> => {
    const { rowCount } = await c.query(
      'INSERT INTO applied_batches (gateway_id, seq, applied_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [batch.gatewayId, batch.seq, batch.appliedAt],
    );
    if (rowCount === 0) return false;
    await c.query('INSERT INTO batch_log (gateway_id, seq, applied_at, payload) VALUES ($1, $2, $3, $4)', [batch.gatewayId, batch.seq, batch.appliedAt, batch.payload]);
    await writeAlerts(c, alerts, statuses);
    return true;
  };

  return {
    // The WHERE on the update makes an older or equal-time price a no-op, seen as rowCount 0. A new
    // price is recorded in the chain of every pledge of its commodity, under the outbox lock (pg/audit.ts).
    putPrice: (price) =>
      transaction(pool, async (c) => {
        await lockOutbox(c);
        const before = await c.query<{ body: string }>('SELECT body FROM prices WHERE commodity = $1', [price.commodity]);
        const { rowCount } = await c.query(
          `INSERT INTO prices (commodity, at, body) VALUES ($1, $2, $3)
           ON CONFLICT (commodity) DO UPDATE SET at = excluded.at, body = excluded.body WHERE excluded.at > prices.at`,
          [price.commodity, toMs(price.at, 'price.at'), JSON.stringify(price)],
        );
        if (rowCount !== 1) return false;
        const previous = before.rows[0] === undefined ? null : (JSON.parse(before.rows[0].body) as PriceRecord);
        const entry = auditEntry.price(price, previous);
        if (entry !== null) await appendAuditToCommodity(c, price.commodity, entry);
        return true;
      }),
    getPrice: async (commodity) => {
      const { rows } = await pool.query<{ body: string }>('SELECT body FROM prices WHERE commodity = $1', [commodity]);
      const row = rows[0];
      return row === undefined ? null : (JSON.parse(row.body) as PriceRecord);
    },
    listPrices: async () =>
      (await pool.query<{ body: string }>('SELECT body FROM prices ORDER BY commodity COLLATE "C"')).rows.map((r) => JSON.parse(r.body) as PriceRecord),

    // The alert and status changes a batch caused commit with its log entry: a crash keeps all or none.
    // A concurrent commit of the same (gateway, seq) waits on the primary key, then finds it taken.
    commitBatch: (batch, alerts = [], statuses = []) => transaction(pool, (c) => logOne(c, batch, alerts, statuses)),
    commitBatches: (entries) =>
      transaction(pool, async (c) => {
        const fresh: boolean[] = [];
        for (const e of entries) fresh.push(await logOne(c, e.batch, e.alerts, e.statuses));
        return fresh;
      }),
    isApplied: async (gatewayId, seq) =>
      (await pool.query('SELECT 1 FROM applied_batches WHERE gateway_id = $1 AND seq = $2', [gatewayId, seq])).rowCount !== 0,

    // Rows travel as one array per column (unnest): a checkpoint after a busy second writes tens of
    // thousands of tags in a few statements instead of one round trip each.
    checkpoint: (cp) =>
      transaction(pool, async (c) => {
        // A tag changed twice in one checkpoint would make ON CONFLICT touch a row twice: keep the last.
        const tags = [...new Map(cp.tags.map((t) => [t.epc, t])).values()];
        for (let i = 0; i < tags.length; i += CHUNK) {
          const part = tags.slice(i, i + CHUNK);
          await c.query(
            `INSERT INTO tags (${TAG_COLUMNS})
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[])
             ON CONFLICT (epc) DO UPDATE SET gateway_id = excluded.gateway_id, site_id = excluded.site_id, zone = excluded.zone,
               reader_id = excluded.reader_id, present = excluded.present, last_seen_at = excluded.last_seen_at,
               updated_at = excluded.updated_at`,
            [
              part.map((t) => t.epc),
              part.map((t) => t.gatewayId),
              part.map((t) => t.siteId),
              part.map((t) => t.zone),
              part.map((t) => t.readerId),
              part.map((t) => t.present),
              part.map((t) => t.lastSeenAt),
              part.map((t) => t.updatedAt),
            ],
          );
        }
        const readers = [...new Map(cp.readers.map((r) => [`${r.gatewayId}\u0000${r.readerId}`, r])).values()];
        if (readers.length > 0) {
          await c.query(
            `INSERT INTO readers (gateway_id, reader_id, connected, at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[])
             ON CONFLICT (gateway_id, reader_id) DO UPDATE SET connected = excluded.connected, at = excluded.at`,
            [readers.map((r) => r.gatewayId), readers.map((r) => r.readerId), readers.map((r) => r.connected), readers.map((r) => r.at)],
          );
        }
        if (cp.batches.length > 0) {
          await c.query(
            'DELETE FROM batch_log WHERE (gateway_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))',
            [cp.batches.map((b) => b.gatewayId), cp.batches.map((b) => b.seq)],
          );
        }
      }),

    pendingBatches: async () => {
      const { rows } = await pool.query<{ gateway_id: string; seq: string; applied_at: string; payload: Buffer }>(
        'SELECT gateway_id, seq, applied_at, payload FROM batch_log ORDER BY id',
      );
      return rows.map((r) => ({ gatewayId: r.gateway_id, seq: Number(r.seq), appliedAt: r.applied_at, payload: r.payload }));
    },
    getTags: async (epcs) =>
      epcs.length === 0
        ? []
        : (await pool.query<TagRow>(`SELECT ${TAG_COLUMNS} FROM tags WHERE epc = ANY($1::text[])`, [epcs])).rows.map(toTag),
    listTags: async () => (await pool.query<TagRow>(`SELECT ${TAG_COLUMNS} FROM tags ORDER BY epc COLLATE "C"`)).rows.map(toTag),
    listReaders: async () =>
      (
        await pool.query<ReaderRow>(
          'SELECT gateway_id, reader_id, connected, at FROM readers ORDER BY gateway_id COLLATE "C", reader_id COLLATE "C"',
        )
      ).rows.map(toReader),
  };
}

function toTag(row: TagRow): TagState {
  return {
    epc: row.epc,
    gatewayId: row.gateway_id,
    siteId: row.site_id,
    zone: row.zone,
    readerId: row.reader_id,
    present: row.present,
    lastSeenAt: row.last_seen_at,
    updatedAt: row.updated_at,
  };
}

function toReader(row: ReaderRow): ReaderHealth {
  return { gatewayId: row.gateway_id, readerId: row.reader_id, connected: row.connected, at: row.at };
}
