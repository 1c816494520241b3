/**
 * Schema history of the PostgreSQL adapters, one ordered list per component, recorded in
 * schema_migrations like the SQLite adapters'. Version N is element N-1; a shipped migration is never
 * edited, only followed by a new one. Times the stores filter on are epoch ms (BIGINT), as in SQLite,
 * and bodies are the JSON text the caller gave, returned as written.
 */
import { AUDIT_GENESIS } from '@pledgewatch/common';
import { PG_CHANGE_MIGRATIONS } from './state-changes.ts';
import { PG_INGEST_MIGRATIONS } from './state-ingest.ts';

export const PG_STATE_MIGRATIONS: readonly string[] = [
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
    online        BOOLEAN,
    last_seen_at  TEXT,
    status        TEXT,
    CHECK (kind = 'feed' OR site_id IS NOT NULL)
  );
  CREATE INDEX mqtt_accounts_kind_site ON mqtt_accounts (kind, site_id);

  CREATE TABLE pledges (
    id               TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    site_id          TEXT NOT NULL,
    borrower         TEXT NOT NULL,
    updated_at       BIGINT NOT NULL,
    valuation_status TEXT,
    body             TEXT NOT NULL
  );
  CREATE INDEX pledges_tenant_site ON pledges (tenant, site_id);
  CREATE INDEX pledges_tenant_borrower ON pledges (tenant, borrower);
  CREATE INDEX pledges_updated_at ON pledges (updated_at);

  -- The primary key is what makes double pledging of one EPC impossible, across tenants and processes.
  CREATE TABLE pledge_items (
    epc       TEXT PRIMARY KEY,
    pledge_id TEXT NOT NULL REFERENCES pledges (id) ON DELETE CASCADE
  );
  CREATE INDEX pledge_items_pledge ON pledge_items (pledge_id);

  CREATE TABLE prices (
    commodity TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    body      TEXT NOT NULL
  );

  CREATE TABLE tags (
    epc          TEXT PRIMARY KEY,
    gateway_id   TEXT NOT NULL,
    site_id      TEXT NOT NULL,
    zone         TEXT NOT NULL,
    reader_id    TEXT NOT NULL,
    present      BOOLEAN NOT NULL,
    last_seen_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );

  CREATE TABLE readers (
    gateway_id TEXT NOT NULL,
    reader_id  TEXT NOT NULL,
    connected  BOOLEAN NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (gateway_id, reader_id)
  );

  CREATE TABLE applied_batches (
    gateway_id TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (gateway_id, seq)
  );

  -- Batches applied but not yet checkpointed into tags/readers (see LoggedBatch in state.ts).
  CREATE TABLE batch_log (
    id         BIGSERIAL PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    applied_at TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    UNIQUE (gateway_id, seq)
  );

  CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    pledge_id  TEXT NOT NULL REFERENCES pledges (id),
    type       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_at  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    body       TEXT NOT NULL
  );
  -- One unresolved alert per condition, whatever process or replay tries to open a second.
  CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (pledge_id, type, subject) WHERE status <> 'resolved';
  CREATE INDEX alerts_tenant_updated ON alerts (tenant, updated_at);
  CREATE INDEX alerts_pledge ON alerts (pledge_id, updated_at);

  -- The event outbox webhooks deliver from: id is the stable webhook-id, seq the commit order
  -- (writers serialise on an advisory lock, see LOCKS.outbox in db.ts).
  CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
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
    created_at BIGINT NOT NULL,
    body       TEXT NOT NULL
  );
  CREATE INDEX releases_pledge ON releases (pledge_id, created_at);
  CREATE INDEX releases_created ON releases (created_at);
  `,
];

/** FX rates of the valuation issue: its own component, like SQLite's, migrated after 'state'. */
export const PG_VALUATION_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE fx_rates (
    base  TEXT NOT NULL,
    quote TEXT NOT NULL,
    at    BIGINT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (base, quote)
  );
  `,
];

/**
 * Webhook endpoints, deliveries and attempts (store/src/webhooks.ts), migrated by openPgWebhooks. seq is
 * assigned under the cursor row's lock (see pg/webhooks.ts), so it follows the event order per line.
 */
export const PG_WEBHOOK_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secrets         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason TEXT,
    created_at      TEXT NOT NULL
  );
  CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant);

  CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    seq             BIGINT NOT NULL UNIQUE,
    endpoint_id     TEXT NOT NULL,
    tenant          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    ordering_key    TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (endpoint_id, event_id)
  );
  -- Only pending deliveries are ever searched for work; delivered and failed ones are history.
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, ordering_key, seq) WHERE status = 'pending';
  CREATE INDEX webhook_deliveries_log ON webhook_deliveries (tenant, endpoint_id, seq);

  CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    n           INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    PRIMARY KEY (delivery_id, n)
  );

  -- One row, there from the start: fan-outs lock it, so they run one at a time across processes.
  CREATE TABLE webhook_cursor (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_seq BIGINT NOT NULL
  );
  INSERT INTO webhook_cursor (id, last_event_seq) VALUES (1, 0);
  `,
];

/**
 * The audit trail, as on SQLite (see AUDIT_MIGRATIONS in sqlite/migrations.ts): records, and each
 * pledge's head apart from them, carrying its commodity and loan currency. Appends lock the head row.
 */
export const PG_AUDIT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE audit_records (
    pledge_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,
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
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL
  );
  CREATE INDEX audit_heads_commodity ON audit_heads (commodity);

  INSERT INTO audit_heads (pledge_id, commodity, currency, seq, hash)
    SELECT id, body::json ->> 'commodity', body::json #>> '{loan,currency}', 0, '${AUDIT_GENESIS}' FROM pledges;
  `,
];

/** Components in the order openPgState applies them (webhooks: openPgWebhooks). */
export const PG_STATE_COMPONENTS: readonly { component: string; migrations: readonly string[] }[] = [
  { component: 'state', migrations: PG_STATE_MIGRATIONS },
  { component: 'valuation', migrations: PG_VALUATION_MIGRATIONS },
  { component: 'audit', migrations: PG_AUDIT_MIGRATIONS },
  { component: 'changes', migrations: PG_CHANGE_MIGRATIONS },
  { component: 'ingest', migrations: PG_INGEST_MIGRATIONS },
];
