/** The WebhookStore on SQLite, in the same file as the state (its own migration component). */
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
import { later, openDatabase, writeRun, writeTx } from './db.ts';

export function openSqliteWebhooks(opts: { path: string; writeLock?: SharedArrayBuffer }): WebhookStore {
  const db = openDatabase(opts.path, 'webhooks', opts.writeLock);
  const insertEndpoint = db.prepare<[EndpointRow]>(
    `INSERT INTO webhook_endpoints (id, tenant, url, events, secrets, status, disabled_reason, created_at)
     VALUES (@id, @tenant, @url, @events, @secrets, @status, @disabled_reason, @created_at)`,
  );
  const endpointOf = db.prepare<[string, string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE tenant = ? AND id = ?');
  const endpointsOf = db.prepare<[string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE tenant = ? ORDER BY created_at, id');
  const active = db.prepare<[], EndpointRow>("SELECT * FROM webhook_endpoints WHERE status = 'active' ORDER BY created_at, id");
  const removeEndpoint = db.prepare<[string, string]>('DELETE FROM webhook_endpoints WHERE tenant = ? AND id = ?');
  const failPendingOf = db.prepare<[string, string, string]>(
    "UPDATE webhook_deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
  );
  const updateSecrets = db.prepare<[string, string, string]>('UPDATE webhook_endpoints SET secrets = ? WHERE tenant = ? AND id = ?');
  const disable = db.prepare<[string, string]>("UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ? WHERE id = ?");

  const maxSeq = db.prepare<[], number | null>('SELECT max(seq) FROM webhook_deliveries').pluck();
  const insertDelivery = db.prepare(
    `INSERT INTO webhook_deliveries (id, seq, endpoint_id, tenant, event_id, event_type, ordering_key, body, status, attempts,
       next_attempt_at, created_at, updated_at)
     VALUES (@id, @seq, @endpointId, @tenant, @eventId, @eventType, @orderingKey, @body, 'pending', 0, @due, @createdAt, @createdAt)
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
  );
  const cursor = db.prepare<[], number>('SELECT last_event_seq FROM webhook_cursor WHERE id = 1').pluck();
  const setCursor = db.prepare<[number]>(
    'INSERT INTO webhook_cursor (id, last_event_seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_event_seq = max(last_event_seq, excluded.last_event_seq)',
  );
  const due = db.prepare<[number, number, number], DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
     WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ? AND ${FIRST_IN_LINE}
     ORDER BY d.seq LIMIT ?`,
  );
  const lease = db.prepare<[number, string]>('UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?');
  const unlease = db.prepare("UPDATE webhook_deliveries SET lease_until = 0 WHERE status = 'pending' AND lease_until > 0");
  const attemptsOf = db.prepare<[string], AttemptRow>('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY n');
  const insertAttempt = db.prepare<[string, number, string, number | null, number, string | null]>(
    'INSERT INTO webhook_attempts (delivery_id, n, at, status_code, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const deliveryById = db.prepare<[string], DeliveryRow & { lease_until: number }>(`SELECT ${DELIVERY_COLUMNS}, lease_until FROM webhook_deliveries WHERE id = ?`);
  // A late attempt on a delivery no longer pending (its endpoint was deleted meanwhile) is logged and
  // counted, and changes nothing else.
  const updateDelivery = db.prepare(
    `UPDATE webhook_deliveries SET attempts = @attempts,
       status = CASE status WHEN 'pending' THEN @status ELSE status END,
       next_attempt_at = CASE status WHEN 'pending' THEN @nextAttemptAt ELSE next_attempt_at END,
       last_status = CASE status WHEN 'pending' THEN @lastStatus ELSE last_status END,
       last_error = CASE status WHEN 'pending' THEN @lastError ELSE last_error END,
       updated_at = CASE status WHEN 'pending' THEN @updatedAt ELSE updated_at END,
       lease_until = 0
     WHERE id = @id`,
  );
  // Only a delivery first in line can be claimed, and a leased one not before its lease ends.
  const nextDue = db
    .prepare<[], number | null>(
      `SELECT min(max(d.next_attempt_at, d.lease_until)) FROM webhook_deliveries d WHERE d.status = 'pending' AND ${FIRST_IN_LINE}`,
    )
    .pluck();
  const deliveriesOf = db.prepare<[string, string, number], DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant = ? AND endpoint_id = ? ORDER BY seq DESC LIMIT ?`,
  );
  const deliveryOf = db.prepare<[string, string, string], DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE tenant = ? AND endpoint_id = ? AND id = ?`,
  );
  const replay = db.prepare<[number, string, string, string, string]>(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, lease_until = 0, updated_at = ?
     WHERE tenant = ? AND endpoint_id = ? AND id = ?`,
  );

  const withAttempts = (row: DeliveryRow) => ({ ...toDelivery(row), attemptLog: attemptsOf.all(row.id).map(toAttempt) });

  const fanOut = writeTx(db, (deliveries: NewDelivery[], to: number, now: number) => {
    if ((cursor.get() ?? 0) >= to) return; // another dispatcher got there first
    let seq = maxSeq.get() ?? 0;
    for (const d of deliveries) insertDelivery.run({ ...d, seq: ++seq, due: now });
    setCursor.run(to);
  });
  const claim = writeTx(db, (now: number, leaseMs: number, limit: number) => {
    const rows = due.all(now, now, limit);
    for (const r of rows) lease.run(now + leaseMs, r.id);
    return rows.map(toDelivery);
  });
  const record = writeTx(db, (r: AttemptRecord, now: number) => {
    const current = deliveryById.get(r.deliveryId);
    if (current === undefined) return;
    const at = new Date(now).toISOString();
    insertAttempt.run(r.deliveryId, current.attempts + 1, r.attempt.at, r.attempt.statusCode, r.attempt.latencyMs, r.attempt.error);
    updateDelivery.run({
      id: r.deliveryId,
      status: r.status,
      attempts: current.attempts + 1,
      nextAttemptAt: r.status === 'pending' ? r.nextAttemptAt : null,
      lastStatus: r.attempt.statusCode,
      lastError: r.attempt.error,
      updatedAt: at,
    });
    if (r.disableEndpoint !== undefined) {
      disable.run(r.disableEndpoint, current.endpoint_id);
      failPendingOf.run(FAILED_BY.disabled(r.disableEndpoint), at, current.endpoint_id);
    }
  });
  const remove = writeTx(db, (tenant: string, id: string) => {
    if (removeEndpoint.run(tenant, id).changes === 0) return false;
    failPendingOf.run(FAILED_BY.deleted, new Date().toISOString(), id);
    return true;
  });

  return {
    kind: 'sqlite',
    createEndpoint: (e) => later(() => void writeRun(db, () => insertEndpoint.run(fromEndpoint(e)))),
    getEndpoint: (tenant, id) => later(() => nullable(endpointOf.get(tenant, id), toEndpoint)),
    listEndpoints: (tenant) => later(() => endpointsOf.all(tenant).map(toEndpoint)),
    activeEndpoints: () => later(() => active.all().map(toEndpoint)),
    deleteEndpoint: (tenant, id) => later(() => remove(tenant, id)),
    setSecrets: (tenant, id, secrets: EndpointSecret[]) => later(() => writeRun(db, () => updateSecrets.run(JSON.stringify(secrets), tenant, id)).changes === 1),
    fanOut: (deliveries, to, now) => later(() => fanOut(deliveries, to, now)),
    fanOutCursor: () => later(() => cursor.get() ?? 0),
    claimDue: (now, leaseMs, limit) => later(() => claim(now, leaseMs, limit)),
    recordAttempt: (r, now) => later(() => record(r, now)),
    releaseLeases: () => later(() => writeRun(db, () => unlease.run()).changes),
    nextDueAt: () => later(() => nextDue.get() ?? null),
    getDelivery: (tenant, endpointId, id) => later(() => nullable(deliveryOf.get(tenant, endpointId, id), withAttempts)),
    listDeliveries: (tenant, endpointId, limit) => later(() => deliveriesOf.all(tenant, endpointId, limit).map(withAttempts)),
    redeliver: (tenant, endpointId, id, now) =>
      later(() => writeRun(db, () => replay.run(now, new Date(now).toISOString(), tenant, endpointId, id)).changes === 1),
    close: () => later(() => void db.close()),
  };
}

function nullable<R, T>(row: R | undefined, map: (row: R) => T): T | null {
  return row === undefined ? null : map(row);
}
