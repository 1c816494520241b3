/** The evidence routes: audit trail, signed certificates and public keys, each tenant seeing only its own pledges. */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { canonicalJson, parsePublicKeys, verifyAuditChain, verifySignedCertificate, type StoredAuditRecord } from '@pledgewatch/common';
import { tempDir } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey } from '../src/index.ts';
import { alertRecord, copperPrice, EPC, itemsOf, registration, seedState, startWithTenants, T0, type Harness } from './harness.ts';

const SITE = 'wh-shanghai-1';
const PL = 'PL-2026-0001';

interface AuditItem extends Omit<StoredAuditRecord, 'data'> {
  data: unknown;
}

describe('evidence routes', () => {
  let h: Harness;
  let key: string;
  let other: string;

  beforeEach(async () => {
    ({ h, key, other } = await startWithTenants(SITE));
    expect((await h.call('POST', '/v1/pledges', { key, body: registration() })).status).toBe(201);
    await h.call('POST', '/v1/pledges', { key: other, body: registration({ id: 'PL-B', items: [{ epc: EPC(20), quantity: 1 }] }) });
  });
  afterEach(async () => h.close());

  /** Items 1…n present in zone A1, seen by a connected reader. */
  const present = (n: number) =>
    seedState(
      h.store,
      Array.from({ length: n }, (_, i) => ({ epc: EPC(i + 1), gatewayId: 'gw-1', siteId: SITE, zone: 'A1', readerId: 'r1', present: true, lastSeenAt: T0, updatedAt: T0 })),
      [{ gatewayId: 'gw-1', readerId: 'r1', connected: true, at: T0 }],
    );

  /** The public keys as a verifier gets them: GET /v1/keys, no API key. */
  const publicKeys = async () => parsePublicKeys((await h.call('GET', '/v1/keys')).text, '/v1/keys');

  it('serves a pledge’s audit trail page by page, a chain anyone can recompute', async () => {
    await present(4);
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    await h.call('PATCH', `/v1/pledges/${PL}/loan`, { key, body: { outstanding: 25_000 } });
    expect((await h.call('POST', `/v1/pledges/${PL}/releases`, { key, body: { epcs: [EPC(4)], reason: 'sold' } })).status).toBe(201);
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-1' }) }]);
    await h.call('POST', '/v1/alerts/alr-1/ack', { key });

    const page = await h.call('GET', `/v1/pledges/${PL}/audit`, { key });
    expect(page.status).toBe(200);
    const items = itemsOf<AuditItem>(page);
    expect(items.map((r) => [r.seq, r.type])).toEqual([
      [1, 'pledge.registered'],
      [2, 'price.applied'],
      [3, 'loan.changed'],
      [4, 'release.recorded'],
      [5, 'alert.opened'],
      [6, 'alert.updated'],
    ]);
    expect(items[2]?.data).toEqual({ from: 20_000, to: 25_000, currency: 'USD' });
    expect(page.json.head).toEqual({ seq: 6, hash: items[5]?.hash });
    expect(page.json.next).toBeNull();
    // From the JSON alone: the data as served hashes to the stored hash, and the records link.
    const stored = items.map((r) => ({ ...r, data: JSON.stringify(r.data) }));
    expect(verifyAuditChain(PL, stored, page.json.head as { seq: number; hash: string })).toEqual([]);

    const second = await h.call('GET', `/v1/pledges/${PL}/audit?after=2&limit=2`, { key });
    expect(itemsOf<AuditItem>(second).map((r) => r.seq)).toEqual([3, 4]);
    expect(second.json.next).toBe(4);
    expect(itemsOf(await h.call('GET', `/v1/pledges/${PL}/audit?after=6`, { key }))).toEqual([]);
    expect((await h.call('GET', `/v1/pledges/${PL}/audit?limit=0`, { key })).json).toMatchObject({ code: 'VALIDATION' });
  });

  it('hides another tenant’s trail and certificate behind 404, and asks for a key', async () => {
    for (const path of ['/v1/pledges/PL-B/audit', '/v1/pledges/PL-B/certificate', '/v1/pledges/nope/certificate']) {
      const reply = await h.call('GET', path, { key });
      expect([path, reply.status, reply.json.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    expect((await h.call('GET', `/v1/pledges/${PL}/audit`)).status).toBe(401);
    expect((await h.call('GET', `/v1/pledges/${PL}/certificate`, { key: other })).status).toBe(404);
  });

  it('signs a certificate of the live valuation, its evidence and the audit head, checkable with the public key', async () => {
    await present(3);
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    await h.store.applyAlertChanges([{ kind: 'open', alert: alertRecord({ id: 'alr-1' }) }]);
    h.clock.advance(60_000);

    const reply = await h.call('GET', `/v1/pledges/${PL}/certificate`, { key });
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json');
    // Served in the canonical form its signature covers.
    expect(reply.text).toBe(canonicalJson(JSON.parse(reply.text)));
    const keys = await publicKeys();
    const check = verifySignedCertificate(reply.text, keys);
    expect(check).toMatchObject({ ok: true, keyId: [...keys.keys()][0] });

    const value = (await h.call('GET', `/v1/pledges/${PL}/value`, { key })).json;
    const head = (await h.call('GET', `/v1/pledges/${PL}/audit?limit=1`, { key })).json.head;
    const cert = reply.json.certificate as Record<string, unknown>;
    expect(cert).toMatchObject({
      type: 'pledgewatch.valuation-certificate',
      version: 1,
      issuedAt: new Date(Date.parse(T0) + 60_000).toISOString(),
      pledge: { id: PL, borrower: 'Acme Metals', siteId: SITE, commodity: 'copper-cathode', unit: 't', itemCount: 4, loan: { outstanding: 20_000, currency: 'USD' }, haircut: 0.15 },
      quantity: value.quantity,
      price: { value: 8000, currency: 'USD', source: 'test-feed', at: T0, stale: false },
      fx: null,
      valuation: { marketValue: value.marketValue, eligibleValue: value.eligibleValue, ltv: value.ltv, headroom: value.headroom, status: value.status },
      openAlerts: [{ id: 'alr-1', type: 'QUANTITY_LOSS', subject: 'quantity', severity: 'warning', status: 'open', openedAt: T0 }],
      audit: head,
    });
    expect((cert.audit as { seq: number }).seq).toBe(3);
    expect(h.logs.some((l) => l.msg === 'certificate issued' && l.pledgeId === PL)).toBe(true);
    expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/^pw_certificates_issued_total 1$/m);

    // Altered after signing: the verifier says so.
    const altered = reply.text.replace('"borrower":"Acme Metals"', '"borrower":"Acme Metal"');
    expect(verifySignedCertificate(altered, keys)).toMatchObject({ ok: false, reason: expect.stringMatching(/^bad signature/) as unknown });
  });

  it('names the FX rate a certificate converted its price at', async () => {
    await h.call('POST', '/v1/pledges', { key, body: registration({ id: 'PL-EUR', items: [{ epc: EPC(30), quantity: 1 }], loan: { outstanding: 100, currency: 'EUR' } }) });
    await h.call('POST', '/v1/prices', { key, body: copperPrice(8000, T0) });
    const noRate = (await h.call('GET', '/v1/pledges/PL-EUR/certificate', { key })).json.certificate as Record<string, unknown>;
    expect(noRate.fx).toEqual({ from: 'USD', to: 'EUR', rate: null });
    await h.call('POST', '/v1/fx', { key, body: { base: 'USD', quote: 'EUR', rate: 0.92, at: T0, source: 'ecb' } });
    const withRate = (await h.call('GET', '/v1/pledges/PL-EUR/certificate', { key })).json.certificate as Record<string, unknown>;
    expect(withRate.fx).toEqual({ from: 'USD', to: 'EUR', rate: 0.92 });
    expect(withRate.audit).toMatchObject({ seq: 3 });
  });

  it('publishes the public key without an API key, as a JWK set with PEM', async () => {
    const reply = await h.call('GET', '/v1/keys');
    expect(reply.status).toBe(200);
    const [k] = reply.json.keys as Record<string, unknown>[];
    expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519', use: 'sig', alg: 'EdDSA', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown });
    expect(String(k?.pem)).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect([...(await publicKeys()).keys()]).toEqual([k?.kid]);
  });
});

describe('the signing key file', () => {
  it('is made once, mode 0600, and gives the same key id on every later start', () => {
    const dir = tempDir('pw-key-');
    try {
      const path = dir.file('signing-key.pem');
      const first = loadOrCreateSigningKey(path);
      expect(first).toMatchObject({ created: true, warnings: [] });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const again = loadOrCreateSigningKey(path);
      expect(again.created).toBe(false);
      expect(again.key.keyId).toBe(first.key.keyId);
      chmodSync(path, 0o644);
      expect(loadOrCreateSigningKey(path).warnings).toEqual([`${path} is readable by others (mode 644): chmod 600 it, the key signs certificates`]);
      writeFileSync(dir.file('bad.pem'), 'not a key');
      expect(() => loadOrCreateSigningKey(dir.file('bad.pem'))).toThrow(`${dir.file('bad.pem')}: the signing key is not a readable key`);
    } finally {
      dir.remove();
    }
  });
});
