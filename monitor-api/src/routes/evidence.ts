/**
 * Evidence a bank can keep: a pledge's audit trail (GET /v1/pledges/{id}/audit), signed valuation
 * certificates (GET /v1/pledges/{id}/certificate) and the public keys that check them (GET /v1/keys,
 * unauthenticated: a public key is public, and an auditor checking a certificate may hold no API key).
 */
import { canonicalJson, publicJwk, type SigningKey, type StoredAuditRecord } from '@pledgewatch/common';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Counter, type Registry } from 'prom-client';
import type { RouteDeps } from '../deps.ts';
import { issueCertificate } from '../domain/certificate.ts';
import { ownPledge } from '../domain/own-pledge.ts';
import { tenantOf } from '../http/auth.ts';
import { AuditPageSchema, AuditQuery, KeySetSchema, SignedCertificateSchema } from '../http/evidence-schemas.ts';
import { IdParams, problemResponses } from '../http/schemas.ts';

const security = [{ apiKey: [] }];

export interface EvidenceDeps extends RouteDeps {
  /** Without a key the certificate route is absent. */
  signingKey: SigningKey | undefined;
  registry: Registry;
}

function issuedCounter(registry: Registry): Counter {
  const name = 'pw_certificates_issued_total';
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: 'valuation certificates signed', registers: [registry] });
}

/** A record as the API shows it: data parsed back to JSON (left as the stored text if that was mangled, so it fails its hash). */
function recordView(r: StoredAuditRecord) {
  let data: unknown;
  try {
    data = JSON.parse(r.data);
  } catch {
    data = r.data;
  }
  return { pledgeId: r.pledgeId, seq: r.seq, at: r.at, type: r.type, data, prevHash: r.prevHash, hash: r.hash };
}

export const evidenceRoutes: FastifyPluginCallbackTypebox<EvidenceDeps> = (app, { store, clock, maxPriceAgeMs, signingKey, registry }, done) => {
  const issued = issuedCounter(registry);

  app.get(
    '/pledges/:id/audit',
    {
      schema: {
        tags: ['evidence'],
        summary: 'The audit trail of a pledge: its hash chain, oldest first, and its head',
        description:
          'Each record carries the hash of the one before; `hash` = SHA-256 of the RFC 8785 canonical JSON of {pledgeId, seq, at, type, data, prevHash}. Check a whole chain offline with `pledgewatch verify-audit`.',
        security,
        params: IdParams,
        querystring: AuditQuery,
        response: { 200: AuditPageSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
      },
    },
    async (request) => {
      const pledge = await ownPledge(store, tenantOf(request), request.params.id);
      const { after = 0, limit = 100 } = request.query;
      const [records, head] = await Promise.all([store.auditRecords(pledge.id, after, limit), store.getAuditHead(pledge.id)]);
      const last = records.at(-1);
      return { pledgeId: pledge.id, head, items: records.map(recordView), next: last !== undefined && records.length === limit ? last.seq : null };
    },
  );

  if (signingKey !== undefined) {
    const key = signingKey;
    app.get(
      '/pledges/:id/certificate',
      {
        schema: {
          tags: ['evidence'],
          summary: 'A signed valuation certificate of the pledge, with the evidence it rests on',
          description:
            'Ed25519 over the RFC 8785 canonical JSON of `certificate`, by the key `signature.keyId` (GET /v1/keys). Save it as it is and check it offline: `pledgewatch verify-certificate FILE --key KEYS`.',
          security,
          params: IdParams,
          response: { 200: SignedCertificateSchema, ...problemResponses('VALIDATION', 'UNAUTHENTICATED', 'NOT_FOUND') },
        },
      },
      async (request, reply) => {
        const pledge = await ownPledge(store, tenantOf(request), request.params.id);
        const signed = await issueCertificate(store, pledge, clock.now(), key, { maxPriceAgeMs });
        issued.inc();
        const { id, audit, valuation } = signed.certificate;
        request.log.info({ pledgeId: pledge.id, certificateId: id, keyId: key.keyId, auditSeq: audit?.seq ?? null, status: valuation.status }, 'certificate issued');
        // Sent in the canonical form the signature covers, not through the schema's serializer.
        return reply.type('application/json').serializer(canonicalJson).send(signed);
      },
    );
  }
  done();
};

/** GET /v1/keys: the public half of the signing key, as a JWK set with the PEM beside each key. */
export const keyRoutes: FastifyPluginCallbackTypebox<{ signingKey: SigningKey }> = (app, { signingKey }, done) => {
  const keys = {
    keys: [
      {
        kid: signingKey.keyId,
        ...publicJwk(signingKey.publicKey),
        use: 'sig' as const,
        alg: 'EdDSA' as const,
        pem: signingKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    ],
  };
  app.get(
    '/keys',
    {
      schema: {
        tags: ['evidence'],
        summary: 'Public keys that sign valuation certificates (no API key needed)',
        description: 'A JWK set (RFC 7517; Ed25519 keys per RFC 8037) with each key also as PEM. Saved to a file, it is what `pledgewatch verify-certificate --key` reads.',
        response: { 200: KeySetSchema },
      },
    },
    () => keys,
  );
  done();
};
