/**
 * The webhook port: lenders' endpoints, one delivery per (endpoint, event), and every attempt made.
 * The events themselves come from the state store's event outbox (written with the alert changes
 * that produced them); the dispatcher fans them out to deliveries, claims due deliveries under a
 * lease (so a crashed dispatcher's work is picked up again) and records each attempt.
 */

export interface EndpointSecret {
  secret: string;
  /** ms; after a rotation the old secret keeps signing until then (both signatures are sent). */
  expiresAt: number | null;
}

export interface WebhookEndpoint {
  id: string;
  tenant: string;
  url: string;
  /** Event types it receives; empty = all. */
  events: string[];
  secrets: EndpointSecret[];
  status: 'active' | 'disabled';
  disabledReason: string | null;
  createdAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewDelivery {
  id: string;
  endpointId: string;
  tenant: string;
  eventId: string;
  eventType: string;
  /** Deliveries with the same key go to an endpoint in order (the pledge id, else the event id). */
  orderingKey: string;
  /** The exact JSON body signed and sent on every attempt. */
  body: string;
  createdAt: string;
}

export interface Delivery extends NewDelivery {
  status: DeliveryStatus;
  attempts: number;
  /** ms; when a pending delivery is next due. */
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: string;
}

export interface DeliveryAttempt {
  n: number;
  at: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** What one attempt changed. */
export interface AttemptRecord {
  deliveryId: string;
  attempt: Omit<DeliveryAttempt, 'n'>;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  /** Set when a 410 disables the endpoint: its other pending deliveries fail with this reason. */
  disableEndpoint?: string;
}

export interface WebhookStore {
  readonly kind: string;
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(tenant: string, id: string): Promise<WebhookEndpoint | null>;
  listEndpoints(tenant: string): Promise<WebhookEndpoint[]>;
  /** Active endpoints of every tenant, for fan-out. */
  activeEndpoints(): Promise<WebhookEndpoint[]>;
  /** Deletes an endpoint and fails its pending deliveries; false when there is none. */
  deleteEndpoint(tenant: string, id: string): Promise<boolean>;
  setSecrets(tenant: string, id: string, secrets: EndpointSecret[]): Promise<boolean>;

  /**
   * Adds deliveries (ignoring any (endpoint, event) already there) and moves the fan-out cursor to
   * `cursor`, atomically; does nothing when the cursor is already there (another dispatcher got there
   * first). Fan-outs run one at a time, so deliveries are numbered in the order given.
   */
  fanOut(deliveries: NewDelivery[], cursor: number, now: number): Promise<void>;
  /** The last event sequence number fanned out (0 at first). */
  fanOutCursor(): Promise<number>;
  /**
   * Claims up to `limit` due deliveries for `leaseMs`: pending, due, not leased (or the lease expired),
   * and first in line for their (endpoint, ordering key) — later events of a pledge wait for earlier
   * ones. Two concurrent claims, from any processes, never hand out the same delivery.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<Delivery[]>;
  recordAttempt(record: AttemptRecord, now: number): Promise<void>;
  /** Ends every lease: for a dispatcher that knows it is the only one (the embedded default) at start. */
  releaseLeases(): Promise<number>;
  /**
   * When the earliest claimable delivery falls due (ms): first in line, and not before its lease ends;
   * null when nothing is pending. Lets the dispatcher sleep until then instead of spinning on a
   * delivery that is in flight or waiting behind another.
   */
  nextDueAt(): Promise<number | null>;

  getDelivery(tenant: string, endpointId: string, deliveryId: string): Promise<(Delivery & { attemptLog: DeliveryAttempt[] }) | null>;
  listDeliveries(tenant: string, endpointId: string, limit: number): Promise<(Delivery & { attemptLog: DeliveryAttempt[] })[]>;
  /** Makes a delivery pending and due now again (a manual replay); false when there is none. */
  redeliver(tenant: string, endpointId: string, deliveryId: string, now: number): Promise<boolean>;
  close(): Promise<void>;
}
