/**
 * The state store port: pledges, identities, prices, tag and reader state, applied batches.
 * Adapters: SQLite (embedded default, `sqlite/`), PostgreSQL (production, later). Every adapter passes
 * the same contract suite (store/test/state-contract.ts).
 */
import type {
  AlertChange,
  AuditHead,
  StoredAuditRecord,
  FxRate,
  AlertRecord,
  AlertStatus,
  AlertType,
  EventRecord,
  GatewayStatusMessage,
  Pledge,
  PriceRecord,
  ReaderHealth,
  Release,
  StatusChange,
  TagState,
  ValuationStatus,
} from '@pledgewatch/common';

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  /** sha256 hex of the full key; the key itself is never stored. */
  hash: string;
  createdAt: string;
}

/** Who may use the MQTT broker: a gateway (publishes under its own topic tree) or a price feed. */
export type MqttAccountKind = 'gateway' | 'feed';

export interface MqttAccount {
  id: string;
  kind: MqttAccountKind;
  /** The site a gateway stands at; null for feeds. */
  siteId: string | null;
  /** scrypt hash, see ingest/src/broker/passwords.ts. */
  passwordHash: string;
  createdAt: string;
}

export interface GatewayRecord {
  id: string;
  siteId: string;
  createdAt: string;
  online: boolean | null;
  lastSeenAt: string | null;
  /** The last status message the gateway (or its last will) published. */
  status: GatewayStatusMessage | null;
}

export interface PledgeFilter {
  siteId?: string;
  borrower?: string;
}

/**
 * One uplink batch as received. Logging it is what makes it applied: the log entry is the durable
 * record, and its effects on tags and readers reach their tables at the next checkpoint (the same
 * way a database's write-ahead log precedes its tables). After a crash, ingest replays what was
 * logged but not yet checkpointed.
 */
export interface LoggedBatch {
  gatewayId: string;
  seq: number;
  appliedAt: string;
  payload: Buffer;
}

/** What each adapter's live-state module implements: prices, the batch log, tag and reader state. */
export type StateLiveOps = Pick<
  StateStore,
  'putPrice' | 'getPrice' | 'listPrices' | 'commitBatch' | 'commitBatches' | 'isApplied' | 'checkpoint' | 'pendingBatches' | 'getTags' | 'listTags' | 'listReaders'
>;

/** A batch to log, with the alert and pledge status changes its events caused (StateStore.commitBatches). */
export interface BatchCommit {
  batch: LoggedBatch;
  alerts: readonly AlertChange[];
  statuses: readonly StatusChange[];
}

/** Tag and reader state written in one transaction, with the logged batches it includes. */
export interface Checkpoint {
  tags: TagState[];
  readers: ReaderHealth[];
  batches: { gatewayId: string; seq: number }[];
}

/** Which alerts of a tenant to list; every given condition must hold. */
export interface AlertFilter {
  statuses?: readonly AlertStatus[];
  pledgeId?: string;
  type?: AlertType;
  /** Alerts changed (updatedAt) at or after this time. */
  since?: string;
  /** Most recently changed first; at most this many (default 100). */
  limit?: number;
}

/**
 * Reading the audit trail (common/src/audit.ts). Writing it is no method of its own: every change above
 * appends its records in its own transaction — registration, loan changes, releases, prices and FX
 * rates (to every pledge they value), and every event of the outbox (alert and status changes).
 */
export interface AuditReader {
  /** Every pledge id with a pledge row, an audit head or audit records, sorted: what verify-audit walks. */
  listAuditedPledges(): Promise<string[]>;
  /** The pledge's head (seq 0 and AUDIT_GENESIS while empty); null when it has none (no such pledge). */
  getAuditHead(pledgeId: string): Promise<AuditHead | null>;
  /** The pledge's records with seq > `after`, in seq order, at most `limit`, data as the JSON text stored. */
  auditRecords(pledgeId: string, after: number, limit: number): Promise<StoredAuditRecord[]>;
  close(): Promise<void>;
}

export interface StateStore extends AuditReader {
  readonly kind: string;
  /** Liveness of the connection (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;

  /** Throws PwError `ACCOUNT_EXISTS` when the id is taken. */
  createMqttAccount(account: MqttAccount): Promise<void>;
  getMqttAccount(id: string): Promise<MqttAccount | null>;
  getGateway(id: string): Promise<GatewayRecord | null>;
  listGateways(): Promise<GatewayRecord[]>;
  listSites(): Promise<string[]>;
  recordGatewayStatus(id: string, status: GatewayStatusMessage, receivedAt: string): Promise<void>;

  /**
   * Registers a pledge. Throws PwError `PLEDGE_EXISTS` for a taken id and `EPC_ALREADY_PLEDGED`
   * when one of its EPCs belongs to another pledge (of any tenant: double pledging is the fraud).
   */
  createPledge(pledge: Pledge): Promise<void>;
  getPledge(tenant: string, id: string): Promise<Pledge | null>;
  listPledges(tenant: string, filter?: PledgeFilter): Promise<Pledge[]>;
  /** Every pledge of every tenant, for ingest. */
  listAllPledges(): Promise<Pledge[]>;
  /** Pledges registered or changed after `since` (exclusive, ms), for ingest to follow other processes. */
  listPledgesChangedSince(since: string): Promise<Pledge[]>;
  /**
   * Sets a pledge's loan outstanding (a drawdown or repayment) and marks the pledge changed at `at`
   * (or just after its last change, whichever is later), so listPledgesChangedSince reports it.
   * null when the tenant has no such pledge.
   */
  updatePledgeLoan(tenant: string, pledgeId: string, outstanding: number, at: string): Promise<Pledge | null>;
  /** Remembers the last status published for a pledge (ingest uses it for LTV hysteresis). */
  setPledgeStatus(pledgeId: string, status: ValuationStatus): Promise<void>;
  getPledgeStatus(pledgeId: string): Promise<ValuationStatus | null>;

  /** Keeps the newest price per commodity; returns false (and changes nothing) for an older one. */
  putPrice(price: PriceRecord): Promise<boolean>;
  getPrice(commodity: string): Promise<PriceRecord | null>;
  /**
   * The newest price of every commodity, by commodity. Prices are few (one per commodity) and a stored
   * one only ever moves to a newer `at`, so a follower (ingest) re-reads them all and compares times.
   */
  listPrices(): Promise<PriceRecord[]>;
  /** Keeps the newest rate per (base, quote); returns false (and changes nothing) for one not newer. */
  putFxRate(rate: FxRate): Promise<boolean>;
  getFxRate(base: string, quote: string): Promise<FxRate | null>;
  /** The newest rate of every pair, by base then quote (followed like listPrices). */
  listFxRates(): Promise<FxRate[]>;

  /**
   * Logs a batch, with the alert and pledge status changes its events caused, in one transaction;
   * returns false, changing nothing (alerts and statuses included), when (gatewayId, seq) was already applied.
   */
  commitBatch(batch: LoggedBatch, alerts?: readonly AlertChange[], statuses?: readonly StatusChange[]): Promise<boolean>;
  /**
   * Logs several batches as commitBatch would each, in one transaction (a group commit): all or none.
   * Returns, in order, whether each was fresh; one already applied (or twice in the group) changes nothing.
   */
  commitBatches(entries: readonly BatchCommit[]): Promise<boolean[]>;
  /** Whether (gatewayId, seq) was logged already: a redelivery, to be dropped before it is applied. */
  isApplied(gatewayId: string, seq: number): Promise<boolean>;
  /** Writes tag and reader state and retires the logged batches it includes, atomically. */
  checkpoint(checkpoint: Checkpoint): Promise<void>;
  /** Batches logged but not yet checkpointed, oldest first: what ingest replays at start. */
  pendingBatches(): Promise<LoggedBatch[]>;
  getTags(epcs: readonly string[]): Promise<TagState[]>;
  listTags(): Promise<TagState[]>;
  listReaders(): Promise<ReaderHealth[]>;

  /**
   * Applies alert changes and records their events, all in one transaction (see AlertChange for
   * what each does). At most one unresolved alert exists per (pledgeId, type, subject), whoever writes.
   * `statuses` publish pledges' statuses in the same transaction, after the alerts: each one that
   * differs from the stored status is stored and recorded as pledge.status_changed (see statusWrite).
   */
  applyAlertChanges(changes: readonly AlertChange[], statuses?: readonly StatusChange[]): Promise<void>;
  /** Unresolved alerts of every tenant, optionally of some types only: what ingest loads at start. */
  listActiveAlerts(types?: readonly AlertType[]): Promise<AlertRecord[]>;
  listAlerts(tenant: string, filter?: AlertFilter): Promise<AlertRecord[]>;
  getAlert(tenant: string, id: string): Promise<AlertRecord | null>;
  /**
   * A person has seen the alert: open → acknowledged, recorded as alert.updated. Acknowledging an
   * acknowledged alert changes nothing; a resolved one throws PwError `ALERT_RESOLVED`. null: no such alert.
   */
  acknowledgeAlert(tenant: string, id: string, at: string): Promise<AlertRecord | null>;
  /** A person resolves the alert, recorded as alert.resolved; resolving a resolved alert changes nothing. */
  resolveAlert(tenant: string, id: string, at: string): Promise<AlertRecord | null>;
  /** The event outbox in commit order: events with seq > `seq`, at most `limit`. */
  eventsAfter(seq: number, limit: number): Promise<EventRecord[]>;
  /** The seq of the newest event in the outbox (0 when empty): where a live follower starts. */
  lastEventSeq(): Promise<number>;

  /** Records a release; throws PwError `NOT_FOUND` when the tenant has no such pledge. */
  createRelease(release: Release): Promise<void>;
  /**
   * Runs `work` while no other call for the same pledge runs, in this process or any other process on
   * the same database: what makes a release's LTV check and its recording one step (the check reads,
   * the release writes, and a second release must see the first).
   */
  exclusivePledge<T>(pledgeId: string, work: () => Promise<T>): Promise<T>;
  getRelease(tenant: string, id: string): Promise<Release | null>;
  /** A pledge's releases, oldest first. */
  listReleases(tenant: string, pledgeId: string): Promise<Release[]>;
  /** Releases of every tenant recorded after `since` (exclusive), oldest first: how ingest follows them. */
  listReleasesSince(since: string): Promise<Release[]>;

  /** The change counters (see ChangeVersions), read together. */
  changeVersions(): Promise<ChangeVersions>;

  /**
   * Records how many shards (worker threads) ingest runs with, and returns the number recorded before,
   * null the first time: a change moves sites between ingest's broker sessions (ingest/src/shards.ts).
   */
  recordIngestShards(count: number): Promise<number | null>;
}

/**
 * What a reader of the state may cache, each kind with a counter the database itself moves forward in
 * the transaction of every change of that kind, whoever writes (triggers, and the tag checkpoint):
 * a cache entry loaded after reading the counters stays good while they read the same. One small
 * query tells a process, or any of several sharing one PostgreSQL, what changed since it last looked.
 */
export const CHANGE_KINDS = [
  /** API keys */
  'api_keys',
  /** pledge terms: registration, loan changes */
  'pledges',
  /** the published valuation status of any pledge (an actual change, not a rewrite of the same) */
  'statuses',
  /** tag state (each checkpoint that writes tags) */
  'tags',
  /** reader health as quantities see it: gateways registered or going on/offline, readers (dis)connecting */
  'readers',
  'prices',
  'fx',
  'releases',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];
export type ChangeVersions = Readonly<Record<ChangeKind, number>>;
