/**
 * Alerts and their event outbox. Every write that changes an alert records its event in the same
 * transaction; changes address an alert by condition (pledge, type, subject), and the partial unique
 * index keeps one unresolved alert per condition whichever process writes.
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
import type { AuditWriter } from './audit.ts';
import { later, writeTx, type Db } from './db.ts';
import { toMs } from './time.ts';

type AlertOps = Pick<
  StateStore,
  'applyAlertChanges' | 'listActiveAlerts' | 'listAlerts' | 'getAlert' | 'acknowledgeAlert' | 'resolveAlert' | 'eventsAfter' | 'lastEventSeq'
>;

/**
 * Writes alert changes, then pledge status changes, inside a transaction the caller holds (commitBatch's,
 * or applyAlertChanges').
 */
export type AlertWriter = (changes: readonly AlertChange[], statuses?: readonly StatusChange[]) => void;

interface EventRow {
  seq: number;
  id: string;
  tenant: string;
  type: OutboxEventType;
  pledge_id: string;
  alert_id: string | null;
  data: string;
  created_at: string;
}

interface FilterParams {
  tenant: string;
  statuses: string | null;
  pledge: string | null;
  type: string | null;
  since: number | null;
  limit: number;
}

const DEFAULT_LIMIT = 100;

export function alertOps(db: Db, audit: AuditWriter): AlertOps & { write: AlertWriter } {
  const insert = db.prepare<[{ id: string; tenant: string; pledge_id: string; type: string; subject: string; status: string; opened_at: number; updated_at: number; body: string }]>(
    `INSERT INTO alerts (id, tenant, pledge_id, type, subject, status, opened_at, updated_at, body)
     VALUES (@id, @tenant, @pledge_id, @type, @subject, @status, @opened_at, @updated_at, @body)`,
  );
  const update = db.prepare<[{ id: string; status: string; updated_at: number; body: string }]>(
    'UPDATE alerts SET status = @status, updated_at = @updated_at, body = @body WHERE id = @id',
  );
  const unresolvedOf = db
    .prepare<[string, string, string], string>(
      `SELECT body FROM alerts WHERE pledge_id = ? AND type = ? AND subject = ? AND status <> 'resolved'`,
    )
    .pluck();
  const byId = db.prepare<[string, string], string>('SELECT body FROM alerts WHERE tenant = ? AND id = ?').pluck();
  const active = db
    .prepare<[{ types: string | null }], string>(
      `SELECT body FROM alerts WHERE status <> 'resolved'
         AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
       ORDER BY opened_at, id`,
    )
    .pluck();
  const filtered = db
    .prepare<[FilterParams], string>(
      `SELECT body FROM alerts
       WHERE tenant = @tenant
         AND (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
         AND (@pledge IS NULL OR pledge_id = @pledge)
         AND (@type IS NULL OR type = @type)
         AND (@since IS NULL OR updated_at >= @since)
       ORDER BY updated_at DESC, id
       LIMIT @limit`,
    )
    .pluck();
  const insertEvent = db.prepare<[Omit<EventRow, 'seq'>]>(
    `INSERT INTO events (id, tenant, type, pledge_id, alert_id, data, created_at)
     VALUES (@id, @tenant, @type, @pledge_id, @alert_id, @data, @created_at)`,
  );
  /** The one way into the outbox: every event is also a record of its pledge's audit chain, in the same transaction. */
  const recordEvent = (row: Omit<EventRow, 'seq'>): void => {
    insertEvent.run(row);
    const data = JSON.parse(row.data) as object;
    audit.append(auditEntry.event({ id: row.id, type: row.type, pledgeId: row.pledge_id, data, createdAt: row.created_at }));
  };
  const after = db.prepare<[number, number], EventRow>(
    'SELECT seq, id, tenant, type, pledge_id, alert_id, data, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const lastSeq = db.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM events').pluck();

  const record = (type: AlertEventType, a: AlertRecord, at: string) => {
    recordEvent({
      id: `evt_${randomUUID()}`,
      tenant: a.tenant,
      type,
      pledge_id: a.pledgeId,
      alert_id: a.id,
      data: JSON.stringify(alertView(a)),
      created_at: at,
    });
  };
  const save = (a: AlertRecord) => {
    update.run({ id: a.id, status: a.status, updated_at: toMs(a.updatedAt, 'alert.updatedAt'), body: JSON.stringify(a) });
  };

  const perform = (w: AlertWrite): void => {
    if (w.kind === 'none') return;
    if (w.kind === 'insert') {
      const next = w.alert;
      insert.run({
        id: next.id,
        tenant: next.tenant,
        pledge_id: next.pledgeId,
        type: next.type,
        subject: next.subject,
        status: next.status,
        opened_at: toMs(next.openedAt, 'alert.openedAt'),
        updated_at: toMs(next.updatedAt, 'alert.updatedAt'),
        body: JSON.stringify(next),
      });
    } else save(w.alert);
    if (w.event !== null) record(w.event, w.alert, w.at);
  };

  const statusOf = db.prepare<[string], ValuationStatus | null>('SELECT valuation_status FROM pledges WHERE id = ?').pluck();
  const setStatus = db.prepare<[string, string]>('UPDATE pledges SET valuation_status = ? WHERE id = ?');
  const writeStatuses = (statuses: readonly StatusChange[]): void => {
    for (const change of statuses) {
      const stored = statusOf.get(change.pledgeId);
      if (stored === undefined) continue; // no such pledge: nothing to attach a status to
      const w = statusWrite(stored, change);
      if (w.kind === 'none') continue;
      setStatus.run(w.status, change.pledgeId);
      recordEvent({
        id: `evt_${randomUUID()}`,
        tenant: change.tenant,
        type: 'pledge.status_changed',
        pledge_id: change.pledgeId,
        alert_id: null,
        data: JSON.stringify(w.event),
        created_at: change.at,
      });
    }
  };

  const write: AlertWriter = (changes, statuses = []) => {
    for (const change of changes) {
      const next = change.alert;
      const body = unresolvedOf.get(next.pledgeId, next.type, next.subject);
      perform(alertWrite(body === undefined ? null : parse(body), change));
    }
    writeStatuses(statuses);
  };
  const apply = writeTx(db, write);

  const person = writeTx(db, (tenant: string, id: string, at: string, action: 'ack' | 'resolve'): AlertRecord | null => {
    const body = byId.get(tenant, id);
    if (body === undefined) return null;
    const a = parse(body);
    const w = personAction(a, action, at);
    perform(w);
    return w.kind === 'none' ? a : w.alert;
  });

  return {
    write,
    applyAlertChanges: (changes, statuses = []) =>
      later(() => {
        if (changes.length > 0 || statuses.length > 0) apply(changes, statuses);
      }),
    listActiveAlerts: (types) => later(() => active.all({ types: types === undefined ? null : JSON.stringify(types) }).map(parse)),
    listAlerts: (tenant, filter: AlertFilter = {}) =>
      later(() =>
        filtered
          .all({
            tenant,
            statuses: filter.statuses === undefined ? null : JSON.stringify(filter.statuses),
            pledge: filter.pledgeId ?? null,
            type: filter.type ?? null,
            since: filter.since === undefined ? null : toMs(filter.since, 'since'),
            limit: filter.limit ?? DEFAULT_LIMIT,
          })
          .map(parse),
      ),
    getAlert: (tenant, id) =>
      later(() => {
        const body = byId.get(tenant, id);
        return body === undefined ? null : parse(body);
      }),
    acknowledgeAlert: (tenant, id, at) => later(() => person(tenant, id, at, 'ack')),
    resolveAlert: (tenant, id, at) => later(() => person(tenant, id, at, 'resolve')),
    lastEventSeq: () => later(() => lastSeq.get() ?? 0),
    eventsAfter: (seq, limit) =>
      later(() =>
        after.all(seq, limit).map((r) => ({
          seq: r.seq,
          id: r.id,
          tenant: r.tenant,
          type: r.type,
          pledgeId: r.pledge_id,
          alertId: r.alert_id,
          data: JSON.parse(r.data) as EventRecord['data'],
          createdAt: r.created_at,
        })),
      ),
  };
}

function parse(body: string): AlertRecord {
  return JSON.parse(body) as AlertRecord;
}

