/** The pledge as a lender registers it (CONTRACT.md §3) and the domain types around it. */
import { Type, type Static } from 'typebox';
import { Geofence } from './geo.ts';
import { Epc, Id } from './ids.ts';

const Ratio = Type.Number({ minimum: 0, maximum: 1 });
const PositiveLtv = Type.Number({ exclusiveMinimum: 0, maximum: 10 });

export const PledgeItem = Type.Object({ epc: Epc, quantity: Type.Number({ exclusiveMinimum: 0 }) });
export const ScaleRef = Type.Object({ sensorId: Id, expectedKg: Type.Number({ exclusiveMinimum: 0 }) });
export const Loan = Type.Object({
  outstanding: Type.Number({ minimum: 0 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' }),
});
export const Limits = Type.Object({ warnLtv: PositiveLtv, marginCallLtv: PositiveLtv, liquidationLtv: PositiveLtv });
const Range = Type.Object({ min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) });
export const StorageSpec = Type.Object({ temperature: Type.Optional(Range), humidity: Type.Optional(Range) });
/** Per-pledge overrides of the alert rules' settings. */
export const PledgeRules = Type.Object(
  {
    confirmationDelayS: Type.Optional(
      Type.Number({ minimum: 0, maximum: 86_400, description: 'how long a quantity loss must last before it is an alert (default 120)' }),
    ),
  },
  { additionalProperties: false },
);

export const PledgeRegistration = Type.Object(
  {
    id: Id,
    borrower: Type.String({ minLength: 1, maxLength: 200 }),
    siteId: Id,
    zones: Type.Array(Id, { minItems: 1, maxItems: 256 }),
    commodity: Id,
    unit: Type.String({ minLength: 1, maxLength: 16 }),
    // Tagged goods list their items; bulk goods (grain, ore) give a quantity and the scales that weigh it.
    items: Type.Optional(Type.Array(PledgeItem, { maxItems: 100_000 })),
    quantity: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'bulk quantity, for pledges without items' })),
    scales: Type.Optional(Type.Array(ScaleRef, { maxItems: 256 })),
    loan: Loan,
    haircut: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    limits: Limits,
    quantityTolerance: Type.Optional(Ratio),
    storage: Type.Optional(StorageSpec),
    geofence: Type.Optional(Geofence),
    trackers: Type.Optional(Type.Array(Id, { maxItems: 256, description: 'GPS trackers on the goods, kept inside the geofence' })),
    rules: Type.Optional(PledgeRules),
  },
  { additionalProperties: false },
);
export type PledgeRegistrationBody = Static<typeof PledgeRegistration>;
export type PledgeItemT = Static<typeof PledgeItem>;
export type LimitsT = Static<typeof Limits>;

export const DEFAULT_QUANTITY_TOLERANCE = 0.02;

export interface Pledge extends Omit<PledgeRegistrationBody, 'items'> {
  tenant: string;
  items: PledgeItemT[];
  scales: Static<typeof ScaleRef>[];
  quantityTolerance: number;
  createdAt: string;
}

/**
 * How much of a pledge is where. `present` counts goods in place in the pledged zones (damaged ones
 * included: they are physically there); `damaged` is the part of `present` that is damaged.
 * pledged = present + missing + relocated + unknown.
 */
export interface Quantities {
  pledged: number;
  present: number;
  missing: number;
  relocated: number;
  damaged: number;
  unknown: number;
}

export const VALUATION_STATUSES = ['ok', 'warning', 'margin_call', 'liquidation'] as const;
export type ValuationStatus = (typeof VALUATION_STATUSES)[number];

export interface PriceRecord {
  commodity: string;
  price: number;
  currency: string;
  unit: string;
  at: string;
  source: string;
}

export interface Valuation {
  pledgeId: string;
  at: string;
  quantity: Quantities;
  price: { value: number; currency: string; unit: string; at: string; source: string; stale: boolean } | null;
  marketValue: number;
  eligibleValue: number;
  outstanding: number;
  currency: string;
  /** outstanding / eligibleValue; null when nothing is eligible and something is owed (unbounded). */
  ltv: number | null;
  headroom: number;
  status: ValuationStatus;
  /** Why part of the value is not counted (stale price, no price, unit or currency mismatch). */
  issues: string[];
}

/** Problems with a pledge's terms that a schema cannot express. */
export function checkPledgeTerms(body: PledgeRegistrationBody): { path: string; reason: string }[] {
  const errors: { path: string; reason: string }[] = [];
  const { warnLtv, marginCallLtv, liquidationLtv } = body.limits;
  if (!(warnLtv < marginCallLtv)) errors.push({ path: '/limits/warnLtv', reason: 'must be below marginCallLtv' });
  if (!(marginCallLtv < liquidationLtv)) {
    errors.push({ path: '/limits/marginCallLtv', reason: 'must be below liquidationLtv' });
  }
  const items = body.items ?? [];
  if (items.length === 0) {
    if (body.quantity === undefined) errors.push({ path: '/items', reason: 'a pledge needs items, or a bulk quantity with scales' });
    else if ((body.scales ?? []).length === 0) errors.push({ path: '/scales', reason: 'a bulk pledge needs at least one scale' });
  } else if (body.quantity !== undefined) {
    errors.push({ path: '/quantity', reason: 'only for pledges without items (the items carry their quantities)' });
  }
  if ((body.trackers ?? []).length > 0 && body.geofence === undefined) {
    errors.push({ path: '/geofence', reason: 'trackers need a geofence to be kept in' });
  }
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const epc = item.epc.toUpperCase();
    if (seen.has(epc)) errors.push({ path: `/items/${i}/epc`, reason: `duplicate EPC ${epc}` });
    seen.add(epc);
  });
  if (new Set(body.zones).size !== body.zones.length) errors.push({ path: '/zones', reason: 'duplicate zone' });
  return errors;
}
