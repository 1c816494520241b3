/**
 * Alerts and their event outbox. Every write that changes an alert records its event in the same
 * transaction, under the outbox lock (LOCKS.outbox in db.ts): writers run one at a time, so event seqs
 * follow commit order and the read-then-write on an alert's condition sees every earlier writer's
 * commit. The partial unique index still holds one unresolved alert per condition against any SQL.
 */
import { randomUUID } from 'node:crypto';
import {
  alertView,
  alertWrite,
  auditEntry,
  personAction,
  statusWrite,
  type AlertWrite,
  type AlertChange,
  type AlertEventType,
  type AlertRecord,
  type EventRecord,
  type OutboxEventType,
  type StatusChange,
  type ValuationStatus,
} from '@pledgewatch/common';
import type { AlertFilter, StateStore } from '../state.ts';
import { toMs } from '../sqlite/time.ts';
import { appendAudit } from './audit.ts';
import { lockOutbox, transaction, type Client, type Pool } from './db.ts';

type AlertOps = Pick<
  StateStore,
  'applyAlertChanges' | 'listActiveAlerts' | 'listAlerts' | 'getAlert' | 'acknowledgeAlert' | 'resolveAlert' | 'eventsAfter' | 'lastEventSeq'
>;

/**
 * Writes alert changes, then pledge status changes, inside a transaction the caller holds (commitBatch's,
 * or applyAlertChanges').
 */
export type AlertWriter = (client: Client, changes: readonly AlertChange[], statuses?: readonly StatusChange[]) => Promise<void>;

interface EventRow {
  seq: string;
  id: string;
  tenant: string;
  type: OutboxEventType;
  pledge_id: string;
  alert_id: string | null;
  data: string;
  created_at: string;
}

const DEFAULT_LIMIT = 100;

export function alertOps(pool: Pool): AlertOps & { write: AlertWriter } {
  /** The one way into the outbox: every event is also a record of its pledge's audit chain, in the same transaction. */
  const recordEvent = async (c: Client, e: { tenant: string; type: OutboxEventType; pledgeId: string; alertId: string | null; data: object; at: string }) => {
    const id = `evt_${randomUUID()}`;
    await c.query(
      `INSERT INTO events (id, tenant, type, pledge_id, alert_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, e.tenant, e.type, e.pledgeId, e.alertId, JSON.stringify(e.data), e.at],
    );
    await appendAudit(c, auditEntry.event({ id, type: e.type, pledgeId: e.pledgeId, data: e.data, createdAt: e.at }));
  };
  const record = (c: Client, type: AlertEventType, a: AlertRecord, at: string) =>
    recordEvent(c, { tenant: a.tenant, type, pledgeId: a.pledgeId, alertId: a.id, data: alertView(a), at });
  const save = async (c: Client, a: AlertRecord) => {
    await c.query('UPDATE alerts SET status = $2, updated_at = $3, body = $4 WHERE id = $1', [
      a.id,
      a.status,
      toMs(a.updatedAt, 'alert.updatedAt'),
      JSON.stringify(a),
    ]);
  };

  const perform = async (c: Client, w: AlertWrite): Promise<void> => {
    if (w.kind === 'none') return;
    if (w.kind === 'insert') {
      const next = w.alert;
      await c.query(
        `INSERT INTO alerts (id, tenant, pledge_id, type, subject, status, opened_at, updated_at, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          next.id,
          next.tenant,
          next.pledgeId,
          next.type,
          next.subject,
          next.status,
          toMs(next.openedAt, 'alert.openedAt'),
          toMs(next.updatedAt, 'alert.updatedAt'),
          JSON.stringify(next),
        ],
      );
    } else await save(c, w.alert);
    if (w.event !== null) await record(c, w.event, w.alert, w.at);
  };

  // Status writers hold the outbox lock too (see `write`), so this read-then-write sees every earlier one.
  const writeStatuses = async (c: Client, statuses: readonly StatusChange[]): Promise<void> => {
    for (const change of statuses) {
      const { rows } = await c.query<{ s: ValuationStatus | null }>('SELECT valuation_status AS s FROM pledges WHERE id = $1', [change.pledgeId]);
      if (rows[0] === undefined) continue; // no such pledge: nothing to attach a status to
      const w = statusWrite(rows[0].s, change);
      if (w.kind === 'none') continue;
      await c.query('UPDATE pledges SET valuation_status = $1 WHERE id = $2', [w.status, change.pledgeId]);
      await recordEvent(c, { tenant: change.tenant, type: 'pledge.status_changed', pledgeId: change.pledgeId, alertId: null, data: w.event, at: change.at });
    }
  };

  const writeAlerts = async (c: Client, changes: readonly AlertChange[]): Promise<void> => {
    for (const change of changes) {
      const next = change.alert;
      const { rows } = await c.query<{ body: string }>(
        `SELECT body FROM alerts WHERE pledge_id = $1 AND type = $2 AND subject = $3 AND status <> 'resolved'`,
        [next.pledgeId, next.type, next.subject],
      );
      await perform(c, alertWrite(rows[0] === undefined ? null : parse(rows[0].body), change));
    }
  };

  const write: AlertWriter = async (c, changes, statuses = []) => {
    if (changes.length === 0 && statuses.length === 0) return;
    await lockOutbox(c);
    await writeAlerts(c, changes);
    await writeStatuses(c, statuses);
  };

  const person = (tenant: string, id: string, at: string, action: 'ack' | 'resolve'): Promise<AlertRecord | null> =>
    transaction(pool, async (c) => {
      await lockOutbox(c);
      const { rows } = await c.query<{ body: string }>('SELECT body FROM alerts WHERE tenant = $1 AND id = $2', [tenant, id]);
      if (rows[0] === undefined) return null;
      const a = parse(rows[0].body);
      const w = personAction(a, action, at);
      await perform(c, w);
      return w.kind === 'none' ? a : w.alert;
    });

  const bodies = async (sql: string, params: unknown[]): Promise<AlertRecord[]> =>
    (await pool.query<{ body: string }>(sql, params)).rows.map((r) => parse(r.body));

  return {
    write,
    applyAlertChanges: async (changes, statuses = []) => {
      if (changes.length > 0 || statuses.length > 0) await transaction(pool, (c) => write(c, changes, statuses));
    },
    listActiveAlerts: (types) =>
      bodies(
        `SELECT body FROM alerts WHERE status <> 'resolved' AND ($1::text[] IS NULL OR type = ANY($1::text[]))
         ORDER BY opened_at, id COLLATE "C"`,
        [types === undefined ? null : [...types]],
      ),
    listAlerts: (tenant, filter: AlertFilter = {}) =>
      bodies(
        `SELECT body FROM alerts
         WHERE tenant = $1
           AND ($2::text[] IS NULL OR status = ANY($2::text[]))
           AND ($3::text IS NULL OR pledge_id = $3)
           AND ($4::text IS NULL OR type = $4)
           AND ($5::bigint IS NULL OR updated_at >= $5)
         ORDER BY updated_at DESC, id COLLATE "C"
         LIMIT $6`,
        [
          tenant,
          filter.statuses === undefined ? null : [...filter.statuses],
          filter.pledgeId ?? null,
          filter.type ?? null,
          filter.since === undefined ? null : toMs(filter.since, 'since'),
          filter.limit ?? DEFAULT_LIMIT,
        ],
      ),
    getAlert: async (tenant, id) => (await bodies('SELECT body FROM alerts WHERE tenant = $1 AND id = $2', [tenant, id]))[0] ?? null,
    acknowledgeAlert: (tenant, id, at) => person(tenant, id, at, 'ack'),
    resolveAlert: (tenant, id, at) => person(tenant, id, at, 'resolve'),
    lastEventSeq: async () => {
      const { rows } = await pool.query<{ seq: string }>('SELECT coalesce(max(seq), 0) AS seq FROM events');
      return Number(rows[0]?.seq ?? 0);
    },
    eventsAfter: async (seq, limit) => {
      const { rows } = await pool.query<EventRow>(
        'SELECT seq, id, tenant, type, pledge_id, alert_id, data, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
        [seq, limit],
      );
      return rows.map((r) => ({
        seq: Number(r.seq),
        id: r.id,
        tenant: r.tenant,
        type: r.type,
        pledgeId: r.pledge_id,
        alertId: r.alert_id,
        data: JSON.parse(r.data) as EventRecord['data'],
        createdAt: r.created_at,
      }));
    },
  };
}

function parse(body: string): AlertRecord {
  return JSON.parse(body) as AlertRecord;
}

