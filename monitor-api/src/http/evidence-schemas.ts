/** Schemas of the evidence routes: the audit trail, signed certificates and the public keys that check them. */
import { ALERT_SEVERITIES, Id, Limits, Time } from '@pledgewatch/common';
import { Type, type TSchema } from 'typebox';
import { AlertStatusSchema, AlertTypeSchema, QuantitiesSchema, ValuationSchema } from './schemas.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, 64 hex digits' });

export const AuditHeadSchema = Type.Object(
  { seq: Type.Integer({ minimum: 0 }), hash: Hash },
  { description: 'the last record of the chain (seq 0 and 64 zeros while it has none)' },
);

export const AuditRecordSchema = Type.Object({
  pledgeId: Id,
  seq: Type.Number({ description: '1, 2, 3, … per pledge' }),
  at: Type.String({ description: 'the time the change carries (registration, change, price or event time)' }),
  type: Type.String({ description: 'pledge.registered, loan.changed, release.recorded, price.applied, fx.applied, alert.opened, alert.updated, alert.resolved, pledge.status_changed' }),
  data: Type.Unknown({ description: 'the facts of the change, exactly as hashed' }),
  prevHash: Type.String({ description: 'hash of the record before (64 zeros for the first)' }),
  hash: Type.String({ description: 'SHA-256 (hex) of the RFC 8785 canonical JSON of {pledgeId, seq, at, type, data, prevHash}' }),
});

export const AuditPageSchema = Type.Object({
  pledgeId: Id,
  head: Nullable(AuditHeadSchema),
  items: Type.Array(AuditRecordSchema),
  next: Nullable(Type.Integer({ description: 'pass as `after` for the next page; null on the last page' })),
});

export const AuditQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'records with a greater seq' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const { pledgeId: _p, quantity: _q, price: PriceSchema, ...valuationFields } = ValuationSchema.properties;

export const CertificateSchema = Type.Object({
  type: Type.Literal('pledgewatch.valuation-certificate'),
  version: Type.Literal(1),
  id: Type.String(),
  issuedAt: Time,
  keyId: Type.String({ description: 'RFC 7638 thumbprint of the signing key (see GET /v1/keys)' }),
  pledge: Type.Object({
    id: Id,
    borrower: Type.String(),
    siteId: Id,
    zones: Type.Array(Type.String()),
    commodity: Type.String(),
    unit: Type.String(),
    itemCount: Type.Integer(),
    loan: Type.Object({ outstanding: Type.Number(), currency: Type.String() }),
    haircut: Type.Number(),
    limits: Limits,
    quantityTolerance: Type.Number(),
    createdAt: Time,
  }),
  quantity: QuantitiesSchema,
  price: PriceSchema,
  fx: Nullable(Type.Object({ from: Type.String(), to: Type.String(), rate: Nullable(Type.Number()) })),
  valuation: Type.Object(valuationFields),
  openAlerts: Type.Array(
    Type.Object({ id: Id, type: AlertTypeSchema, subject: Type.String(), severity: Type.Enum([...ALERT_SEVERITIES]), status: AlertStatusSchema, openedAt: Time }),
  ),
  audit: Nullable(AuditHeadSchema),
});

export const SignedCertificateSchema = Type.Object({
  certificate: CertificateSchema,
  signature: Type.Object({
    alg: Type.Literal('Ed25519'),
    keyId: Type.String(),
    value: Type.String({ description: 'base64 Ed25519 signature over the RFC 8785 canonical JSON of `certificate`' }),
  }),
});

export const KeySetSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kid: Type.String({ description: 'key id: RFC 7638 JWK thumbprint' }),
      kty: Type.Literal('OKP'),
      crv: Type.Literal('Ed25519'),
      x: Type.String({ description: 'public key, base64url' }),
      use: Type.Literal('sig'),
      alg: Type.Literal('EdDSA'),
      pem: Type.String({ description: 'the same public key as SPKI PEM' }),
    }),
  ),
});
