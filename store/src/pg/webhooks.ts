/**
 * The WebhookStore on PostgreSQL, in the state database (its own migration component), safe with
 * several dispatcher processes on one database:
 * - fan-outs lock the cursor row, so they run one at a time; one that finds the cursor already past
 *   its events does nothing, and delivery seqs follow event order;
 * - claims take due, first-in-line deliveries with FOR UPDATE SKIP LOCKED and lease them in the same
 *   statement, so two dispatchers never claim one delivery and never pass an earlier one in its line;
 * - an attempt is recorded under the delivery's row lock (attempt numbers cannot collide), and a 410
 *   locks the endpoint first, as a deletion does, so the two cannot deadlock.
 * A dispatcher that dies leaves its leases to expire; claimDue reclaims them then.
 */
import type { AttemptRecord, EndpointSecret, NewDelivery, WebhookStore } from '../webhooks.ts';
import {
  DELIVERY_COLUMNS,
  FAILED_BY,
  FIRST_IN_LINE,
  fromEndpoint,
  toAttempt,
  toDelivery,
  toEndpoint,
  type AttemptRow,
  type DeliveryRow,
  type EndpointRow,
} from '../webhook-rows.ts';
import { openPool, transaction, type Client, type PgOptions, type Queryable } from './db.ts';
import { PG_WEBHOOK_MIGRATIONS } from './migrations.ts';

/** Deliveries are a small share of the work: a smaller pool than the state store's by default. */
const DEFAULT_POOL_SIZE = 4;

const ENDPOINT_COLUMNS = 'id, tenant, url, events, secrets, status, disabled_reason, created_at';

export async function openPgWebhooks(opts: PgOptions): Promise<WebhookStore> {
  const pool = await openPool({ url: opts.url, poolSize: opts.poolSize ?? DEFAULT_POOL_SIZE }, [
    { component: 'webhooks', migrations: PG_WEBHOOK_MIGRATIONS },
  ]);

  const endpoints = async (sql: string, params: unknown[]) => (await pool.query<EndpointRow>(sql, params)).rows.map(toEndpoint);
  const failPendingOf = (c: Queryable, endpointId: string, reason: string, at: string) =>
    c.query(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL, updated_at = $2
       WHERE endpoint_id = $3 AND status = 'pending'`,
      [reason, at, endpointId],
    );
  const withAttempts = async (rows: DeliveryRow[]) => {
    const { rows: attempts } = await pool.query<AttemptRow>(
      'SELECT delivery_id, n, at, status_code, latency_ms, error FROM webhook_attempts WHERE delivery_id = ANY($1::text[]) ORDER BY delivery_id, n',
      [rows.map((r) => r.id)],
    );
    return rows.map((r) => ({ ...toDelivery(r), attemptLog: attempts.filter((a) => a.delivery_id === r.id).map(toAttempt) }));
  };

  const fanOut = (deliveries: NewDelivery[], to: number, now: number) =>
    transaction(pool, async (c) => {
      const { rows } = await c.query<{ last_event_seq: string }>('SELECT last_event_seq FROM webhook_cursor WHERE id = 1 FOR UPDATE');
      if (Number(rows[0]?.last_event_seq ?? 0) >= to) return; // another dispatcher got there first
      if (deliveries.length > 0) await insertDeliveries(c, deliveries, now);
      await c.query('UPDATE webhook_cursor SET last_event_seq = $1 WHERE id = 1', [to]);
    });

  const record = (r: AttemptRecord, now: number) =>
    transaction(pool, async (c) => {
      if (r.disableEndpoint !== undefined) {
        await c.query(
          'SELECT 1 FROM webhook_endpoints WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1) FOR UPDATE',
          [r.deliveryId],
        );
      }
      const { rows } = await c.query<{ endpoint_id: string; attempts: number }>(
        'SELECT endpoint_id, attempts FROM webhook_deliveries WHERE id = $1 FOR UPDATE',
        [r.deliveryId],
      );
      const current = rows[0];
      if (current === undefined) return;
      const at = new Date(now).toISOString();
      const n = current.attempts + 1;
      await c.query('INSERT INTO webhook_attempts (delivery_id, n, at, status_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)', [
        r.deliveryId,
        n,
        r.attempt.at,
        r.attempt.statusCode,
        r.attempt.latencyMs,
        r.attempt.error,
      ]);
      // A late attempt on a delivery no longer pending (its endpoint was deleted meanwhile) is logged
      // and counted, and changes nothing else.
      const pending = (value: string, column: string) => `${column} = CASE status WHEN 'pending' THEN ${value} ELSE ${column} END`;
      await c.query(
        `UPDATE webhook_deliveries SET attempts = $2, ${pending('$3', 'status')}, ${pending('$4::bigint', 'next_attempt_at')},
           ${pending('$5::integer', 'last_status')}, ${pending('$6::text', 'last_error')}, ${pending('$7', 'updated_at')}, lease_until = 0
         WHERE id = $1`,
        [r.deliveryId, n, r.status, r.status === 'pending' ? r.nextAttemptAt : null, r.attempt.statusCode, r.attempt.error, at],
      );
      if (r.disableEndpoint !== undefined) {
        await c.query("UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1 WHERE id = $2", [r.disableEndpoint, current.endpoint_id]);
        await failPendingOf(c, current.endpoint_id, FAILED_BY.disabled(r.disableEndpoint), at);
      }
    });

  return {
    kind: 'postgres',
    createEndpoint: async (e) => {
      const row = fromEndpoint(e);
      await pool.query(
        `INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [row.id, row.tenant, row.url, row.events, row.secrets, row.status, row.disabled_reason, row.created_at],
      );
    },
    getEndpoint: async (tenant, id) =>
      (await endpoints(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 AND id = $2`, [tenant, id]))[0] ?? null,
    listEndpoints: (tenant) =>
      endpoints(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 ORDER BY created_at COLLATE "C", id COLLATE "C"`, [tenant]),
    activeEndpoints: () =>
      endpoints(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE status = 'active' ORDER BY created_at COLLATE "C", id COLLATE "C"`, []),
    deleteEndpoint: (tenant, id) =>
      transaction(pool, async (c) => {
        const deleted = await c.query('DELETE FROM webhook_endpoints WHERE tenant = $1 AND id = $2', [tenant, id]);
        if (deleted.rowCount !== 1) return false;
        await failPendingOf(c, id, FAILED_BY.deleted, new Date().toISOString());
        return true;
      }),
    setSecrets: async (tenant, id, secrets: EndpointSecret[]) =>
      (await pool.query('UPDATE webhook_endpoints SET secrets = $1 WHERE tenant = $2 AND id = $3', [JSON.stringify(secrets), tenant, id])).rowCount === 1,
    fanOut,
    fanOutCursor: async () =>
      Number((await pool.query<{ last_event_seq: string }>('SELECT last_event_seq FROM webhook_cursor WHERE id = 1')).rows[0]?.last_event_seq ?? 0),
    claimDue: async (now, leaseMs, limit) => {
      const { rows } = await pool.query<DeliveryRow & { seq: string }>(
        `UPDATE webhook_deliveries w SET lease_until = $2
         FROM (SELECT d.id FROM webhook_deliveries d
               WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1 AND ${FIRST_IN_LINE}
               ORDER BY d.seq LIMIT $3
               FOR UPDATE SKIP LOCKED) due
         WHERE w.id = due.id
         RETURNING ${DELIVERY_COLUMNS.split(', ').map((c) => `w.${c}`).join(', ')}, w.seq`,
        [now, now + leaseMs, limit],
      );
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toDelivery);
    },
    recordAttempt: record,
    releaseLeases: async () =>
      (await pool.query("UPDATE webhook_deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0")).rowCount ?? 0,
    nextDueAt: async () => {
      const { rows } = await pool.query<{ due: string | null }>(
        `SELECT min(greatest(d.next_attempt_at, d.lease_until)) AS due FROM webhook_deliveries d WHERE d.status = 'pending' AND ${FIRST_IN_LINE}`,
      );
      const due = rows[0]?.due ?? null;
      return due === null ? null : Number(due);
    },
    getDelivery: async (tenant, endpointId, id) => {
      const { rows } = await pool.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant = $1 AND endpoint_id = $2 AND id = $3`,
        [tenant, endpointId, id],
      );
      return (await withAttempts(rows))[0] ?? null;
    },
    listDeliveries: async (tenant, endpointId, limit) => {
      const { rows } = await pool.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant = $1 AND endpoint_id = $2 ORDER BY seq DESC LIMIT $3`,
        [tenant, endpointId, limit],
      );
      return withAttempts(rows);
    },
    redeliver: async (tenant, endpointId, id, now) => {
      const { rowCount } = await pool.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_until = 0, updated_at = $2
         WHERE tenant = $3 AND endpoint_id = $4 AND id = $5`,
        [now, new Date(now).toISOString(), tenant, endpointId, id],
      );
      return rowCount === 1;
    },
    close: () => pool.end(),
  };
}

/**
 * Inserts deliveries in one statement, numbered after the highest seq in their given order (the
 * caller holds the cursor lock, so nobody else is numbering); an (endpoint, event) already there stays.
 */
async function insertDeliveries(c: Client, deliveries: NewDelivery[], now: number): Promise<void> {
  const column = <K extends keyof NewDelivery>(key: K) => deliveries.map((d) => d[key]);
  await c.query(
    `INSERT INTO webhook_deliveries (id, seq, endpoint_id, tenant, event_id, event_type, ordering_key, body, status, attempts,
       next_attempt_at, created_at, updated_at)
     SELECT n.id, base.seq + n.ord, n.endpoint_id, n.tenant, n.event_id, n.event_type, n.ordering_key, n.body, 'pending', 0,
       $9::bigint, n.created_at, n.created_at
     FROM (SELECT coalesce(max(seq), 0) AS seq FROM webhook_deliveries) base,
          unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
            WITH ORDINALITY AS n (id, endpoint_id, tenant, event_id, event_type, ordering_key, body, created_at, ord)
     ORDER BY n.ord
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
    [
      column('id'),
      column('endpointId'),
      column('tenant'),
      column('eventId'),
      column('eventType'),
      column('orderingKey'),
      column('body'),
      column('createdAt'),
      now,
    ],
  );
}
