/**
 * Response and parameter schemas of the HTTP API. They feed the serializer and the OpenAPI document,
 * so every field a client sees is declared here once.
 */
import {
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  ALERT_TYPES,
  Epc,
  ERRORS,
  Id,
  PledgeRegistration,
  Price,
  ScaleRef,
  Time,
  VALUATION_STATUSES,
  type ErrorCode,
} from '@pledgewatch/common';
import { Type, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const FieldErrorSchema = Type.Object({
  path: Type.String({ description: 'JSON Pointer to the field at fault ("" for the whole value)' }),
  reason: Type.String(),
  in: Type.Optional(Type.String({ description: 'request part: body, querystring, params or headers' })),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'problem type URI; stable per code' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable error code, see the error table in the API description' }),
    instance: Type.String({ description: 'the request path' }),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
  },
  { description: 'RFC 9457 problem details' },
);

/** Problem responses of a route, grouped by status, each naming the codes it may carry. */
export function problemResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> = {};
  for (const [status, group] of byStatus) {
    responses[status] = {
      description: group.map((code) => `${code}: ${ERRORS[code].title}`).join('; '),
      content: { 'application/problem+json': { schema: ProblemSchema } },
    };
  }
  return responses;
}

export const ValuationStatusSchema = Type.Enum([...VALUATION_STATUSES]);

export const QuantitiesSchema = Type.Object({
  pledged: Type.Number(),
  present: Type.Number({ description: 'in place in the pledged zones (damaged included)' }),
  missing: Type.Number(),
  relocated: Type.Number(),
  damaged: Type.Number({ description: 'the part of present that is damaged' }),
  unknown: Type.Number({ description: 'not observable now: never seen, or its reader or gateway is down' }),
});

export const ValuationSchema = Type.Object({
  pledgeId: Id,
  at: Time,
  quantity: QuantitiesSchema,
  price: Nullable(
    Type.Object({
      value: Type.Number(),
      currency: Type.String(),
      unit: Type.String(),
      at: Time,
      source: Type.String(),
      stale: Type.Boolean(),
    }),
  ),
  marketValue: Type.Number({ description: 'present quantity at the price, in the loan currency' }),
  eligibleValue: Type.Number({ description: 'present, undamaged quantity at a usable price, less the haircut' }),
  outstanding: Type.Number(),
  currency: Type.String({ description: 'loan currency, in which the values above are' }),
  ltv: Nullable(Type.Number({ description: 'outstanding / eligibleValue; null when nothing is eligible and money is owed' })),
  headroom: Type.Number({ description: 'eligibleValue × marginCallLtv − outstanding; negative: amount to cure' }),
  status: ValuationStatusSchema,
  issues: Type.Array(Type.String(), { description: 'why part of the value is not counted' }),
});

/** The pledge as registered, with defaults filled in (EPCs upper case). */
export const PledgeViewSchema = Type.Object({
  ...PledgeRegistration.properties,
  scales: Type.Array(ScaleRef),
  quantityTolerance: Type.Number({ minimum: 0, maximum: 1 }),
  createdAt: Time,
});

const { items: _items, ...termsWithoutItems } = PledgeViewSchema.properties;

/** One line of the pledge list: the terms without the item list (it can hold 100k EPCs), and the live value. */
export const PledgeSummarySchema = Type.Object({
  ...termsWithoutItems,
  itemCount: Type.Integer({ minimum: 0 }),
  valuation: ValuationSchema,
});

export const AlertTypeSchema = Type.Enum([...ALERT_TYPES]);
export const AlertStatusSchema = Type.Enum([...ALERT_STATUSES]);

/** One item of an alert's evidence: its kind and time, then the facts of that kind. */
export const EvidenceSchema = Type.Object(
  {
    kind: Type.String({ description: 'quantities, missing-tags, relocated-tags, scale, reading, camera, position, gateway or reader' }),
    at: Time,
  },
  { additionalProperties: true },
);

/** CONTRACT.md §3 alert, with the condition it is about and how often it was seen. */
export const AlertSchema = Type.Object({
  id: Id,
  pledgeId: Id,
  type: AlertTypeSchema,
  subject: Type.String({ description: 'what the condition is about within the pledge: quantity, tags, zone:A1, gateway:gw-1, reader:gw-1/r1, …' }),
  severity: Type.Enum([...ALERT_SEVERITIES]),
  status: AlertStatusSchema,
  openedAt: Time,
  updatedAt: Time,
  resolvedAt: Type.Optional(Time),
  resolvedBy: Type.Optional(Type.Enum(['rule', 'api'], { description: 'rule: the condition stayed clear for the hold time; api: a person' })),
  acknowledgedAt: Type.Optional(Time),
  summary: Type.String(),
  evidence: Type.Array(EvidenceSchema),
  occurrences: Type.Integer({ minimum: 1, description: '1 at opening; +1 per return of the condition or new event behind it' }),
  lastSeenAt: Time,
});

export const PledgeDetailSchema = Type.Object({
  ...PledgeViewSchema.properties,
  valuation: ValuationSchema,
  openAlerts: Type.Array(AlertSchema),
});

export const PriceViewSchema = Type.Object({
  ...Price.properties,
  stale: Type.Boolean({ description: 'older than the maximum price age: no value counts as eligible at it' }),
});

export const ReaderViewSchema = Type.Object({
  readerId: Id,
  connected: Type.Boolean(),
  lastReadAt: Nullable(Time),
  at: Nullable(Time),
});

export const GatewayViewSchema = Type.Object({
  id: Id,
  siteId: Id,
  online: Nullable(Type.Boolean({ description: 'null until the gateway has published a status' })),
  lastSeenAt: Nullable(Time),
  agentVersion: Nullable(Type.String()),
  readers: Type.Array(ReaderViewSchema),
  outbox: Nullable(Type.Object({ depth: Type.Integer(), dropped: Type.Integer() })),
});

export const IdParams = Type.Object({ id: Id });

/** A release order as the API takes it (CONTRACT §3). */
export const ReleaseBody = Type.Object(
  {
    epcs: Type.Optional(Type.Array(Epc, { maxItems: 100_000, description: 'items released by name' })),
    quantity: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'quantity released without naming items, in the pledge unit' })),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export const ReleaseSchema = Type.Object({
  id: Id,
  pledgeId: Id,
  epcs: Type.Array(Type.String()),
  quantity: Type.Optional(Type.Number()),
  reason: Type.String(),
  createdAt: Time,
});

export const LoanBody = Type.Object(
  { outstanding: Type.Number({ minimum: 0, description: 'loan outstanding, in the loan currency (at most its minor units)' }) },
  { additionalProperties: false },
);

const HistoryMoney = (description: string) => Nullable(Type.Number({ description: `${description}, in the loan currency; null until a valuation was recorded` }));

/** One time of a pledge's history: its state as last recorded at or before `at`. */
export const HistoryPointSchema = Type.Object({
  at: Time,
  quantity: Type.Union([QuantitiesSchema, Type.Null()], { description: 'null until a quantity was recorded' }),
  marketValue: HistoryMoney('present quantity at the price'),
  eligibleValue: HistoryMoney('present, undamaged quantity at a usable price, less the haircut'),
  outstanding: HistoryMoney('loan outstanding'),
  headroom: HistoryMoney('eligibleValue × marginCallLtv − outstanding'),
  ltv: Nullable(Type.Number({ description: 'outstanding / eligibleValue; null with a valuation recorded: nothing eligible and money owed (unbounded)' })),
});

export const HistorySchema = Type.Object({
  pledgeId: Id,
  from: Time,
  to: Time,
  step: Type.String({ description: 'time between points, as an ISO 8601 duration (PT5M)' }),
  stepSeconds: Type.Number(),
  unit: Type.String({ description: 'unit of the quantities' }),
  currency: Type.String({ description: 'loan currency, in which the values are' }),
  points: Type.Array(HistoryPointSchema, { description: 'at from, from + step, … up to to (and not after now); times before anything was recorded are left out' }),
});
