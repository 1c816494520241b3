/**
 * Schema history of the SQLite adapters, one ordered list per component. Version N is element N-1;
 * a shipped migration is never edited, only followed by a new one. State and series keep separate
 * lists (recorded under their component name) so both can live in one database file.
 */
import { AUDIT_GENESIS } from '@pledgewatch/common';

export type MigrationComponent = 'state' | 'series' | 'webhooks';

export const STATE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );

  CREATE TABLE mqtt_accounts (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('gateway', 'feed')),
    site_id       TEXT,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    online        INTEGER,
    last_seen_at  TEXT,
    status        TEXT,
    CHECK (kind = 'feed' OR site_id IS NOT NULL)
  );
  CREATE INDEX mqtt_accounts_kind_site ON mqtt_accounts (kind, site_id);

  -- body is the whole Pledge as JSON; the other columns exist to filter and index.
  -- updated_at is epoch ms so that comparisons do not depend on how a time string was written.
  CREATE TABLE pledges (
    id               TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    site_id          TEXT NOT NULL,
    borrower         TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    valuation_status TEXT,
    body             TEXT NOT NULL
  );
  CREATE INDEX pledges_tenant_site ON pledges (tenant, site_id);
  CREATE INDEX pledges_tenant_borrower ON pledges (tenant, borrower);
  CREATE INDEX pledges_updated_at ON pledges (updated_at);

  -- The primary key is what makes double pledging of one EPC impossible, across tenants.
  CREATE TABLE pledge_items (
    epc       TEXT PRIMARY KEY,
    pledge_id TEXT NOT NULL REFERENCES pledges (id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX pledge_items_pledge ON pledge_items (pledge_id);

  CREATE TABLE prices (
    commodity TEXT PRIMARY KEY,
    at        INTEGER NOT NULL,
    body      TEXT NOT NULL
  );

  CREATE TABLE tags (
    epc          TEXT PRIMARY KEY,
    gateway_id   TEXT NOT NULL,
    site_id      TEXT NOT NULL,
    zone         TEXT NOT NULL,
    reader_id    TEXT NOT NULL,
    present      INTEGER NOT NULL,
    last_seen_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE readers (
    gateway_id TEXT NOT NULL,
    reader_id  TEXT NOT NULL,
    connected  INTEGER NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (gateway_id, reader_id)
  ) WITHOUT ROWID;

  CREATE TABLE applied_batches (
    gateway_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (gateway_id, seq)
  ) WITHOUT ROWID;

  -- Batches applied but not yet checkpointed into tags/readers (see LoggedBatch in state.ts).
  CREATE TABLE batch_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    gateway_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    payload    BLOB NOT NULL,
    UNIQUE (gateway_id, seq)
  );
  `,
  `
  -- Alerts raised by rules (and later valuation). body is the whole AlertRecord as JSON; the columns
  -- exist to filter. Times are epoch ms so that filters do not depend on how a time was written.
  CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    pledge_id  TEXT NOT NULL REFERENCES pledges (id),
    type       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body       TEXT NOT NULL
  );
  -- One unresolved alert per condition, whatever process or replay tries to open a second.
  CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (pledge_id, type, subject) WHERE status <> 'resolved';
  CREATE INDEX alerts_tenant_updated ON alerts (tenant, updated_at);
  CREATE INDEX alerts_pledge ON alerts (pledge_id, updated_at);

  -- The event outbox webhooks deliver from: id is the stable webhook-id, seq the commit order.
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    tenant     TEXT NOT NULL,
    type       TEXT NOT NULL,
    pledge_id  TEXT NOT NULL,
    alert_id   TEXT,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE releases (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    pledge_id  TEXT NOT NULL REFERENCES pledges (id),
    created_at INTEGER NOT NULL,
    body       TEXT NOT NULL
  );
  CREATE INDEX releases_pledge ON releases (pledge_id, created_at);
  CREATE INDEX releases_created ON releases (created_at);
  `,
  `
  -- A logged batch's payload lives in a segment file beside the database (sqlite/batch-segments.ts);
  -- payload is then empty. Rows written before this migration keep theirs inline.
  ALTER TABLE batch_log ADD COLUMN segment TEXT;
  ALTER TABLE batch_log ADD COLUMN seg_offset INTEGER;
  `,
];

export const SERIES_MIGRATIONS: readonly string[] = [
  `
  -- One row per (measurement, tag set), like InfluxDB's series index: points refer to it by id, and
  -- a tag filter only has to look at the (few, low-cardinality) series, never at every point.
  -- tags is the canonical key: JSON of the tag pairs sorted by name.
  CREATE TABLE series (
    id          INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags        TEXT NOT NULL,
    UNIQUE (measurement, tags)
  );

  CREATE TABLE points (
    series_id INTEGER NOT NULL REFERENCES series (id),
    field     TEXT NOT NULL,
    time      INTEGER NOT NULL,
    value     REAL NOT NULL
  );
  CREATE INDEX points_series_field_time ON points (series_id, field, time);
  `,
];

/** Webhook endpoints, deliveries and attempts (store/src/webhooks.ts); lives in the state database. */
export const WEBHOOK_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secrets         TEXT NOT NULL,
    status          TEXT NOT NULL,
    disabled_reason TEXT,
    created_at      TEXT NOT NULL
  );
  CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant);

  CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    endpoint_id     TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    ordering_key    TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (endpoint_id, event_id)
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
  CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, ordering_key, status, seq);

  CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    n           INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    PRIMARY KEY (delivery_id, n)
  ) WITHOUT ROWID;

  CREATE TABLE webhook_cursor (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_seq INTEGER NOT NULL
  );
  `,
];

/**
 * FX rates (and, next, the audit chain) of the valuation issue: its own component (recorded as
 * 'valuation'), migrated into the state database by openSqliteState after 'state'.
 */
export const VALUATION_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE fx_rates (
    base  TEXT NOT NULL,
    quote TEXT NOT NULL,
    at    INTEGER NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (base, quote)
  ) WITHOUT ROWID;
  `,
];

/**
 * The audit trail (common/src/audit.ts): records per pledge, and each pledge's head apart from them so
 * that a deleted tail shows. A head also carries the pledge's commodity and loan currency: they pick the
 * chains a new price or FX rate is recorded in, without reading pledge bodies. Pledges registered before
 * this migration get an empty head, so their chains start with their next change. Its own component
 * (recorded as 'audit'), migrated into the state database by openSqliteState after 'valuation'.
 */
export const AUDIT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE audit_records (
    pledge_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    at        TEXT NOT NULL,
    type      TEXT NOT NULL,
    data      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (pledge_id, seq)
  );

  CREATE TABLE audit_heads (
    pledge_id TEXT PRIMARY KEY,
    commodity TEXT NOT NULL,
    currency  TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL
  );
  CREATE INDEX audit_heads_commodity ON audit_heads (commodity);

  INSERT INTO audit_heads (pledge_id, commodity, currency, seq, hash)
    SELECT id, json_extract(body, '$.commodity'), json_extract(body, '$.loan.currency'), 0, '${AUDIT_GENESIS}' FROM pledges;
  `,
];

export const MIGRATIONS: Readonly<Record<MigrationComponent, readonly string[]>> = {
  state: STATE_MIGRATIONS,
  series: SERIES_MIGRATIONS,
  webhooks: WEBHOOK_MIGRATIONS,
};
