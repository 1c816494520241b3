import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  keyIdOf,
  parsePublicKeys,
  publicJwk,
  signCertificate,
  signingKeyFromPem,
  verifySignedCertificate,
  type SigningKey,
} from '../src/index.ts';

function newKey(): SigningKey & { pem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { ...signingKeyFromPem(pem, 'test key'), pem };
}

const key = newKey();
const body = {
  type: 'pledgewatch.valuation-certificate',
  keyId: key.keyId,
  pledge: { id: 'PL-1', borrower: 'Acme Métaux' },
  valuation: { marketValue: 68625, ltv: 0.685739, status: 'warning' },
  audit: { seq: 7, hash: 'ab'.repeat(32) },
};
const keys = new Map([[key.keyId, key.publicKey]]);

describe('signed certificates', () => {
  it('names a key by its RFC 7638 thumbprint (the RFC 8037 example key)', () => {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } as const;
    expect(keyIdOf(createPublicKey({ key: jwk, format: 'jwk' }))).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('verifies an untouched certificate, however its JSON is formatted', () => {
    const signed = signCertificate(body, key);
    expect(signed.signature).toMatchObject({ alg: 'Ed25519', keyId: key.keyId });
    expect(verifySignedCertificate(JSON.stringify(signed), keys)).toEqual({ ok: true, keyId: key.keyId, certificate: body });
    expect(verifySignedCertificate(JSON.stringify(signed, null, 2), keys).ok).toBe(true);
  });

  it('fails on every single flipped byte', () => {
    const text = canonicalJson(signCertificate(body, key));
    const failures = new Set<string>();
    for (let i = 0; i < text.length; i++) {
      const bytes = Buffer.from(text, 'utf8');
      bytes[i] = (bytes[i] as number) ^ 0x01;
      const check = verifySignedCertificate(bytes.toString('utf8'), keys);
      expect(check.ok, `byte ${i} flipped`).toBe(false);
      if (!check.ok) failures.add(check.reason.split(':')[0] as string);
    }
    expect([...failures]).toEqual(expect.arrayContaining(['malformed JSON', 'bad signature', 'key id mismatch']));
  });

  it('says exactly what failed', () => {
    const signed = signCertificate(body, key);
    const reason = (doc: unknown, k = keys) => {
      const check = verifySignedCertificate(typeof doc === 'string' ? doc : JSON.stringify(doc), k);
      return check.ok ? 'ok' : check.reason;
    };
    expect(reason('{"certificate":')).toMatch(/^malformed JSON: /);
    expect(reason({ certificate: body })).toBe('not a signed certificate: "signature" is missing or not an object');
    expect(reason({ ...signed, signature: { ...signed.signature, alg: 'RS256' } })).toBe('unsupported signature algorithm "RS256" (expected "Ed25519")');
    const other = newKey();
    expect(reason(signed, new Map([[other.keyId, other.publicKey]]))).toBe(`unknown key id ${key.keyId} (keys given: ${other.keyId})`);
    expect(reason({ ...signed, signature: { ...signed.signature, value: 'AAAA' } })).toBe('bad signature: signature.value is not 64 bytes of base64');
    const byOther = signCertificate({ ...body, keyId: other.keyId }, other);
    expect(reason({ ...byOther, signature: { ...byOther.signature, keyId: key.keyId } })).toMatch(/^key id mismatch/);
    expect(reason({ ...signed, certificate: { ...body, keyId: key.keyId, valuation: { ...body.valuation, ltv: 0.5 } } })).toMatch(/^bad signature: /);
    expect(() => signCertificate({ ...body, keyId: other.keyId }, key)).toThrow(/names key/);
  });

  it('reads public keys from PEM, a private PEM, a JWK, a JWK set and the /v1/keys answer', () => {
    const publicPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwk = publicJwk(key.publicKey);
    const other = newKey();
    for (const text of [publicPem, key.pem, JSON.stringify(jwk), JSON.stringify({ keys: [jwk] }), JSON.stringify({ keys: [{ kid: key.keyId, ...jwk, pem: publicPem }] })]) {
      expect([...parsePublicKeys(text, 'k').keys()]).toEqual([key.keyId]);
    }
    const both = parsePublicKeys(publicPem + other.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'k');
    expect([...both.keys()]).toEqual([key.keyId, other.keyId]);
  });

  it('refuses keys that are not Ed25519, or not keys, naming the file', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parsePublicKeys(rsa, 'bank.pem')).toThrow('bank.pem: PEM block 1 is an rsa key, not Ed25519');
    expect(() => parsePublicKeys('hello', 'k.txt')).toThrow(/^k.txt: neither a PEM key nor JSON/);
    expect(() => parsePublicKeys('{"kty":"RSA"}', 'k.json')).toThrow('k.json: the JWK is not an Ed25519 public JWK');
    expect(() => parsePublicKeys('{"keys":[]}', 'k.json')).toThrow('k.json: the key set is empty');
    expect(() => signingKeyFromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', 'key.pem')).toThrow(/^key.pem: the signing key is not a readable key/);
  });
});
