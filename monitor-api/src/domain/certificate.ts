/**
 * A valuation certificate: the live valuation of a pledge with everything it rests on — terms,
 * quantities by status, the price (source, time, stale), the FX rate, open alerts — and the head of the
 * pledge's audit chain, signed with the API's Ed25519 key. Anyone with the public key (GET /v1/keys)
 * checks it offline: `pledgewatch verify-certificate`.
 */
import { randomUUID } from 'node:crypto';
import {
  CERTIFICATE_TYPE,
  isoTime,
  signCertificate,
  type AlertSeverity,
  type AlertStatus,
  type AlertType,
  type AuditHead,
  type LimitsT,
  type Pledge,
  type Quantities,
  type SignedCertificate,
  type SigningKey,
  type Valuation,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import { loadValuationBasis, valueBasis, type LiveValuationOptions } from './live-valuation.ts';

export interface ValuationCertificate {
  type: typeof CERTIFICATE_TYPE;
  version: 1;
  id: string;
  issuedAt: string;
  keyId: string;
  pledge: {
    id: string;
    borrower: string;
    siteId: string;
    zones: string[];
    commodity: string;
    unit: string;
    itemCount: number;
    loan: { outstanding: number; currency: string };
    haircut: number;
    limits: LimitsT;
    quantityTolerance: number;
    createdAt: string;
  };
  quantity: Quantities;
  price: Valuation['price'];
  /** The rate the price was converted at (loan-currency units per price-currency unit); null: same currency or no price. */
  fx: { from: string; to: string; rate: number | null } | null;
  valuation: Omit<Valuation, 'pledgeId' | 'quantity' | 'price'>;
  openAlerts: { id: string; type: AlertType; subject: string; severity: AlertSeverity; status: AlertStatus; openedAt: string }[];
  /** The pledge's audit chain as it stood when the certificate was issued; null when the pledge has none. */
  audit: AuditHead | null;
}

export type CertificateSource = Parameters<typeof loadValuationBasis>[0] & Pick<StateStore, 'listAlerts' | 'getAuditHead'>;

/** Values the pledge at `now` from the store (as GET …/value does) and signs the result. */
export async function issueCertificate(
  store: CertificateSource,
  pledge: Pledge,
  now: number,
  key: SigningKey,
  opts: LiveValuationOptions = {},
): Promise<SignedCertificate<ValuationCertificate>> {
  const basis = await loadValuationBasis(store, pledge, now, opts);
  const { pledgeId: _id, quantity, price, ...valuation } = valueBasis(basis);
  const alerts = await store.listAlerts(pledge.tenant, { pledgeId: pledge.id, statuses: ['open', 'acknowledged'], limit: 1000 });
  // Read last: the head covers every change the valuation above could have seen.
  const audit = await store.getAuditHead(pledge.id);
  const fx = price === null || price.currency === pledge.loan.currency ? null : { from: price.currency, to: pledge.loan.currency, rate: basis.fxRate };
  const certificate: ValuationCertificate = {
    type: CERTIFICATE_TYPE,
    version: 1,
    id: `cert_${randomUUID()}`,
    issuedAt: isoTime(now),
    keyId: key.keyId,
    pledge: {
      id: pledge.id,
      borrower: pledge.borrower,
      siteId: pledge.siteId,
      zones: pledge.zones,
      commodity: pledge.commodity,
      unit: pledge.unit,
      itemCount: pledge.items.length,
      loan: pledge.loan,
      haircut: pledge.haircut,
      limits: pledge.limits,
      quantityTolerance: pledge.quantityTolerance,
      createdAt: pledge.createdAt,
    },
    quantity,
    price,
    fx,
    valuation,
    openAlerts: alerts.map((a) => ({ id: a.id, type: a.type, subject: a.subject, severity: a.severity, status: a.status, openedAt: a.openedAt })),
    audit,
  };
  return signCertificate(certificate, key);
}
