/**
 * What a rule sees and what it says. A rule is a pure function from one pledge's facts to the
 * conditions that hold for it now; the alert lifecycle (alerts/lifecycle.ts) turns conditions into
 * opened, updated and resolved alerts over time.
 */
import type {
  AlertSeverity,
  AlertType,
  CameraKind,
  Evidence,
  ItemState,
  Pledge,
  Quantities,
  ReleasedGoods,
  SensorKind,
  TagState,
  Valuation,
  ValuationStatus,
} from '@pledgewatch/common';
import type { RuleConfig } from './config.ts';

/** A condition that holds for a pledge now. */
export interface Condition {
  type: AlertType;
  /** What it is about within the pledge; one alert per (pledge, type, subject). */
  subject: string;
  severity: AlertSeverity;
  summary: string;
  /** Built only when the alert is written: listing a pledge's missing items is not free. */
  evidence: () => Evidence[];
  /** How long it must hold before it opens an alert. */
  confirmMs: number;
  /** How long it must stay clear before its alert resolves (doubled per return while open). */
  holdMs: number;
  /** Physical damage signals: the alert waits for a person to resolve it. */
  latch?: boolean;
  /** Discrete events behind it (a shock, a camera frame): each new one counts as an occurrence. */
  events?: readonly string[];
}

export interface ItemView {
  epc: string;
  quantity: number;
  state: ItemState;
  tag: TagState | undefined;
}

export interface SensorFact {
  sensorId: string;
  kind: SensorKind;
  siteId: string;
  zone: string;
  value: number;
  unit: string;
  /** reading time (the sensor's clock, via the gateway) */
  at: string;
  /** ingest's clock when the reading arrived */
  receivedAt: number;
}

/** A temperature or humidity sensor in a pledged zone, against the pledge's storage spec. */
export interface EnvironmentFact {
  reading: SensorFact;
  limit: { min?: number | undefined; max?: number | undefined };
  /** Ongoing excursion: the first out-of-spec reading time, null when in spec. */
  outSince: string | null;
  /** An excursion that ended, as far back as its readings show (found when readings arrive late, in bulk). */
  lastExcursion: { since: string; until: string; receivedAt: number } | null;
}

/** An alarm episode of one sensor: from its first alarming reading until a calm one. */
export interface AlarmFact {
  /** the latest alarming reading */
  reading: SensorFact;
  /** reading time of the episode's first alarming reading: what names the episode */
  since: string;
  /** false once a calm reading has followed */
  ongoing: boolean;
}

export interface CameraEventFact {
  kind: CameraKind;
  confidence: number;
  at: string;
  receivedAt: number;
  snapshotUri?: string | undefined;
}

export interface CameraFact {
  cameraId: string;
  zone: string;
  /** the last damage event at or above the confidence threshold */
  damage: CameraEventFact | null;
  /** the last obstruction or tamper event */
  blind: CameraEventFact | null;
  /** the last event that proves it sees (motion, intrusion, damage) */
  sight: CameraEventFact | null;
}

export interface TrackerFact {
  trackerId: string;
  position: { lat: number; lon: number; at: string } | null;
}

export interface GatewayFact {
  gatewayId: string;
  online: boolean | null;
  /** ingest's clock at the last status (or at start, when none came since) */
  lastStatusAt: number;
  /** when the last will said offline, by ingest's clock */
  offlineSince: number | null;
  heartbeatMs: number;
}

export interface ReaderFact {
  gatewayId: string;
  readerId: string;
  connected: boolean;
  /** when `connected` was last reported */
  since: string;
  lastReadAt: string | null;
  /** pledged quantity (less releases) this reader last saw present */
  quantity: number;
}

/**
 * A pledge's value as ingest sees it now (common's valuePledge, at the status it last published as the
 * previous one, so the LTV hysteresis holds), and the status to publish.
 */
export interface ValuationFact {
  value: Valuation;
  /**
   * The status to publish now: the valuation's, except that it is kept as published while the LTV
   * cannot be measured (no usable price) and while a worse one rests only on goods out of sight.
   */
  status: ValuationStatus;
  /** The status published before this look. */
  published: ValuationStatus;
  /** Since when a worse status rests only on goods out of sight (null: it does not). */
  blindSince: number | null;
  fxRate: number | null;
  maxPriceAgeMs: number;
}

/** Everything the rules may look at for one pledge, at one instant. */
export interface PledgeFacts {
  pledge: Pledge;
  now: number;
  config: RuleConfig;
  released: ReleasedGoods;
  /** Quantities less releases. */
  quantities: Quantities;
  /** Each item not released, with its state; computed on demand (it scans the pledge). */
  items: () => ItemView[];
  scales: { sensorId: string; expectedKg: number; reading: SensorFact | null }[];
  environment: EnvironmentFact[];
  /** water, shock and door sensors in the pledged zones, latest reading each */
  sensors: SensorFact[];
  /**
   * The last alarming reading (water = 1, shock at or over the threshold) of each sensor in the pledged
   * zones: a spike between two calm readings of one batch still counts.
   */
  alarms: AlarmFact[];
  cameras: CameraFact[];
  trackers: TrackerFact[];
  gateways: GatewayFact[];
  readers: ReaderFact[];
  /** null where valuation is not looked at (rule tests). */
  valuation: ValuationFact | null;
}

export type Rule = (facts: PledgeFacts) => Condition[];
