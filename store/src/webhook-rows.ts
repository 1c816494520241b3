/**
 * The webhook tables' rows and their mapping to the port's types, shared by the SQLite and PostgreSQL
 * adapters (the same columns in both). PostgreSQL hands BIGINT back as a string, hence Number().
 */
import type { Delivery, DeliveryAttempt, EndpointSecret, WebhookEndpoint } from './webhooks.ts';

export interface EndpointRow {
  id: string;
  tenant: string;
  url: string;
  events: string;
  secrets: string;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  tenant: string;
  event_id: string;
  event_type: string;
  ordering_key: string;
  body: string;
  status: Delivery['status'];
  attempts: number;
  next_attempt_at: number | string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface AttemptRow {
  delivery_id: string;
  n: number;
  at: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export const DELIVERY_COLUMNS =
  'id, endpoint_id, tenant, event_id, event_type, ordering_key, body, status, attempts, next_attempt_at, last_status, last_error, created_at, updated_at';

/**
 * A pending delivery `d` is first in line when no earlier pending delivery of its (endpoint, ordering
 * key) exists: later events of a pledge wait for earlier ones. The same SQL in both dialects.
 */
export const FIRST_IN_LINE = `NOT EXISTS (SELECT 1 FROM webhook_deliveries e
  WHERE e.endpoint_id = d.endpoint_id AND e.ordering_key = d.ordering_key AND e.status = 'pending' AND e.seq < d.seq)`;

/** Why a delivery failed without an attempt of its own. */
export const FAILED_BY = {
  deleted: 'endpoint deleted',
  disabled: (reason: string) => `endpoint disabled: ${reason}`,
} as const;

export function fromEndpoint(e: WebhookEndpoint): EndpointRow {
  return {
    id: e.id,
    tenant: e.tenant,
    url: e.url,
    events: JSON.stringify(e.events),
    secrets: JSON.stringify(e.secrets),
    status: e.status,
    disabled_reason: e.disabledReason,
    created_at: e.createdAt,
  };
}

export function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    tenant: r.tenant,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    secrets: JSON.parse(r.secrets) as EndpointSecret[],
    status: r.status,
    disabledReason: r.disabled_reason,
    createdAt: r.created_at,
  };
}

export function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    tenant: r.tenant,
    eventId: r.event_id,
    eventType: r.event_type,
    orderingKey: r.ordering_key,
    body: r.body,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toAttempt(r: AttemptRow): DeliveryAttempt {
  return { n: r.n, at: r.at, statusCode: r.status_code, latencyMs: r.latency_ms, error: r.error };
}
