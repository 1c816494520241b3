/**
 * Settings of the alert rules: operator-facing in seconds (what the config file and the worker
 * options carry), validated once and turned into a frozen RuleConfig in milliseconds.
 */
import { ALERT_SEVERITIES, compileCheck, describeErrors, Id, type AlertSeverity, type PriceAgeLimits } from '@pledgewatch/common';
import { Type, type Static } from 'typebox';

/** A year: a longer maximum price age is a typo, not a policy. */
const MAX_PRICE_AGE_S = 365 * 86_400;
const Seconds = (description: string, maximum = 7 * 86_400) => Type.Optional(Type.Number({ minimum: 0, maximum, description }));
const Severity = Type.Unsafe<AlertSeverity>(Type.Union(ALERT_SEVERITIES.map((s) => Type.Literal(s))));

export const RuleSettings = Type.Object(
  {
    confirmationDelayS: Seconds('a quantity loss must last this long before it is an alert (per pledge: rules.confirmationDelayS)'),
    quantityLossBands: Type.Optional(
      Type.Array(Type.Object({ minShare: Type.Number({ minimum: 0, maximum: 1 }), severity: Severity }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 8,
        description: 'severity by the share of the pledge missing: the last band whose minShare is reached applies',
      }),
    ),
    relocationConfirmationS: Seconds('goods seen outside the pledge this long (a stray read at a zone border is not a move)'),
    relocationCriticalShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'share relocated from which RELOCATION is critical' })),
    damageHoldS: Seconds('a reading outside the storage spec this long is DAMAGE'),
    shockThresholdG: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'a shock reading at or above this is DAMAGE at once' })),
    cameraDamageConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'camera damage events at or above this confidence count' })),
    gapConfirmationS: Seconds('a monitoring gap must last this long (a reader or gateway restart is not one)'),
    heartbeatIntervalS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400, description: 'assumed gateway status cadence until observed' })),
    missedHeartbeats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'statuses missed before a gateway counts as silent' })),
    readerSilenceS: Seconds('a connected reader holding pledged tags that has read nothing this long is a gap'),
    cameraBlindS: Seconds('an obstruction or tamper event keeps a camera blind this long unless it reports seeing again'),
    gapCriticalS: Seconds('a monitoring gap this old becomes critical'),
    holdS: Seconds('a condition must stay clear this long before its alert resolves'),
    maxHoldS: Seconds('cap of the hold, which doubles each time a condition comes back before resolving (flapping)'),
    notifyIntervalS: Seconds('at most one alert.updated per alert per this interval, except for escalations', 86_400),
    touchIntervalS: Seconds('how often an open alert’s lastSeenAt and evidence are refreshed in the store', 86_400),
    tickS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'how often timers (confirmation, hold, silence) are checked' })),
    evidenceLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'tags listed by name in one evidence item' })),
    maxPriceAgeS: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE_AGE_S, description: 'a price older than this is stale: PRICE_STALE, and nothing is eligible at it' }),
    ),
    maxPriceAgeByCommodityS: Type.Optional(
      Type.Record(Id, Type.Number({ exclusiveMinimum: 0, maximum: MAX_PRICE_AGE_S }), {
        additionalProperties: false,
        description: 'commodity → its own maximum price age in seconds (others use maxPriceAgeS)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RuleSettingsT = Static<typeof RuleSettings>;

export interface SeverityBand {
  minShare: number;
  severity: AlertSeverity;
}

export interface RuleConfig {
  quantityLoss: { confirmationDelayMs: number; bands: readonly SeverityBand[] };
  relocation: { confirmationDelayMs: number; criticalShare: number };
  damage: { specHoldMs: number; shockThresholdG: number; cameraConfidence: number; eventWindowMs: number };
  monitoringGap: {
    confirmationDelayMs: number;
    heartbeatIntervalMs: number;
    missedHeartbeats: number;
    readerSilenceMs: number;
    cameraBlindMs: number;
    criticalAfterMs: number;
  };
  lifecycle: { holdMs: number; maxHoldMs: number; notifyIntervalMs: number; touchIntervalMs: number };
  valuation: {
    priceAges: PriceAgeLimits;
    /** A worse status resting only on goods out of sight (reader or gateway down) waits this long. */
    blindConfirmationMs: number;
  };
  tickMs: number;
  evidenceLimit: number;
}

export const DEFAULT_RULE_SETTINGS: Readonly<Required<RuleSettingsT>> = Object.freeze({
  confirmationDelayS: 120,
  quantityLossBands: [
    { minShare: 0, severity: 'warning' as const },
    { minShare: 0.1, severity: 'critical' as const },
  ],
  relocationConfirmationS: 30,
  relocationCriticalShare: 0.1,
  damageHoldS: 600,
  shockThresholdG: 2.5,
  cameraDamageConfidence: 0.8,
  gapConfirmationS: 60,
  heartbeatIntervalS: 30,
  missedHeartbeats: 3,
  readerSilenceS: 900,
  cameraBlindS: 600,
  gapCriticalS: 3600,
  holdS: 300,
  maxHoldS: 3600,
  notifyIntervalS: 60,
  touchIntervalS: 60,
  tickS: 1,
  evidenceLimit: 50,
  maxPriceAgeS: 86_400,
  maxPriceAgeByCommodityS: {},
});

/** How long a discrete event (shock, camera frame) stays visible to rules after ingest received it. */
const EVENT_WINDOW_MS = 60_000;

const checkSettings = compileCheck(RuleSettings, { maxErrors: 32 });

/** Validates settings (throwing an Error naming every bad key) and fills in the defaults. */
export function ruleConfig(settings: unknown = {}): RuleConfig {
  const checked = checkSettings(settings);
  if (!checked.ok) throw new Error(`invalid rule settings: ${describeErrors(checked.errors)}`);
  const s = { ...DEFAULT_RULE_SETTINGS, ...checked.value };
  const ms = (seconds: number) => Math.round(seconds * 1000);
  return deepFreeze({
    quantityLoss: {
      confirmationDelayMs: ms(s.confirmationDelayS),
      bands: [...s.quantityLossBands].sort((a, b) => a.minShare - b.minShare),
    },
    relocation: { confirmationDelayMs: ms(s.relocationConfirmationS), criticalShare: s.relocationCriticalShare },
    damage: {
      specHoldMs: ms(s.damageHoldS),
      shockThresholdG: s.shockThresholdG,
      cameraConfidence: s.cameraDamageConfidence,
      eventWindowMs: EVENT_WINDOW_MS,
    },
    monitoringGap: {
      confirmationDelayMs: ms(s.gapConfirmationS),
      heartbeatIntervalMs: ms(s.heartbeatIntervalS),
      missedHeartbeats: s.missedHeartbeats,
      readerSilenceMs: ms(s.readerSilenceS),
      cameraBlindMs: ms(s.cameraBlindS),
      criticalAfterMs: ms(s.gapCriticalS),
    },
    lifecycle: {
      holdMs: ms(s.holdS),
      maxHoldMs: Math.max(ms(s.maxHoldS), ms(s.holdS)),
      notifyIntervalMs: ms(s.notifyIntervalS),
      touchIntervalMs: ms(s.touchIntervalS),
    },
    valuation: {
      priceAges: {
        defaultMs: ms(s.maxPriceAgeS),
        byCommodityMs: Object.fromEntries(Object.entries(s.maxPriceAgeByCommodityS).map(([commodity, seconds]) => [commodity, ms(seconds)])),
      },
      blindConfirmationMs: ms(s.gapConfirmationS),
    },
    tickMs: Math.max(1, ms(s.tickS)),
    evidenceLimit: s.evidenceLimit,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
