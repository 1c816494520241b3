/**
 * Signed valuation certificates: Ed25519 over the canonical JSON of the certificate body, so anyone
 * holding the public key can check one offline, whatever became of our database. A key is named by
 * its RFC 7638 JWK thumbprint, computed from the key itself, never taken from a label.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export const SIGNATURE_ALG = 'Ed25519';
export const CERTIFICATE_TYPE = 'pledgewatch.valuation-certificate';

/** A signing key ready to use: the private key and the id of its public half. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface Signature {
  alg: typeof SIGNATURE_ALG;
  keyId: string;
  /** base64 of the 64-byte Ed25519 signature over canonicalJson(certificate). */
  value: string;
}

/** What GET /v1/pledges/{id}/certificate returns and `pledgewatch verify-certificate` checks. */
export interface SignedCertificate<T> {
  certificate: T;
  signature: Signature;
}

export interface PublicKeyJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

/** Whether the key is an Ed25519 key (public or private). */
export function isEd25519(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ed25519';
}

export function publicJwk(publicKey: KeyObject): PublicKeyJwk {
  const { x } = publicKey.export({ format: 'jwk' });
  if (!isEd25519(publicKey) || typeof x !== 'string') throw new TypeError('not an Ed25519 public key');
  return { kty: 'OKP', crv: 'Ed25519', x };
}

/** The key id: the RFC 7638 thumbprint (base64url SHA-256 of the canonical JWK members crv, kty, x). */
export function keyIdOf(publicKey: KeyObject): string {
  const { crv, kty, x } = publicJwk(publicKey);
  return createHash('sha256').update(canonicalJson({ crv, kty, x })).digest('base64url');
}

/** Reads a signing key: an Ed25519 private key in PEM (PKCS#8, as `openssl genpkey -algorithm ed25519` writes). */
export function signingKeyFromPem(pem: string, where: string): SigningKey {
  const privateKey = readKey(() => createPrivateKey(pem), where, 'the signing key');
  if (!isEd25519(privateKey)) throw new Error(`${where}: the signing key is an ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Signs a certificate body with `key`; the body must name the key (`keyId`) so the id is signed too. */
export function signCertificate<T extends { keyId: string }>(certificate: T, key: SigningKey): SignedCertificate<T> {
  if (certificate.keyId !== key.keyId) throw new Error(`certificate names key ${certificate.keyId}, signing with ${key.keyId}`);
  const value = sign(null, Buffer.from(canonicalJson(certificate), 'utf8'), key.privateKey).toString('base64');
  return { certificate, signature: { alg: SIGNATURE_ALG, keyId: key.keyId, value } };
}

/** Public keys by key id. */
export type PublicKeys = ReadonlyMap<string, KeyObject>;

/**
 * Reads public keys from text: PEM (one or more PUBLIC KEY blocks; a PRIVATE KEY block gives its public
 * half), a JWK, a JWK set (`{"keys": [...]}`), or what GET /v1/keys answers. Throws naming `where` and
 * what is wrong; every key must be Ed25519.
 */
export function parsePublicKeys(text: string, where: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const add = (key: KeyObject, what: string) => {
    if (!isEd25519(key)) throw new Error(`${where}: ${what} is an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
    const publicKey = key.type === 'private' ? createPublicKey(key) : key;
    keys.set(keyIdOf(publicKey), publicKey);
  };
  // JSON first: the /v1/keys answer carries PEM text inside it.
  if (!text.trimStart().startsWith('{') && text.includes('-----BEGIN')) {
    const blocks = text.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g) ?? [];
    if (blocks.length === 0) throw new Error(`${where}: a PEM block is not terminated`);
    blocks.forEach((pem, i) => add(readKey(() => createPublicKey(pem), where, `PEM block ${i + 1}`), `PEM block ${i + 1}`));
    return keys;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: neither a PEM key nor JSON (${(err as Error).message})`, { cause: err });
  }
  const list = isObject(json) && Array.isArray(json.keys) ? (json.keys as unknown[]) : [json];
  if (list.length === 0) throw new Error(`${where}: the key set is empty`);
  list.forEach((jwk, i) => {
    const what = list.length === 1 && jwk === json ? 'the JWK' : `keys[${i}]`;
    if (!isObject(jwk) || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
      throw new Error(`${where}: ${what} is not an Ed25519 public JWK (needs kty "OKP", crv "Ed25519" and x)`);
    }
    add(readKey(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }, format: 'jwk' }), where, what), what);
  });
  return keys;
}

function readKey(read: () => KeyObject, where: string, what: string): KeyObject {
  try {
    return read();
  } catch (err) {
    throw new Error(`${where}: ${what} is not a readable key (${(err as Error).message})`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type CertificateCheck =
  | { ok: true; keyId: string; certificate: Record<string, unknown> }
  | { ok: false; reason: string };

/** Checks a signed certificate, as saved from the API, against the given public keys; says exactly what failed. */
export function verifySignedCertificate(text: string, keys: PublicKeys): CertificateCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${(err as Error).message}` };
  }
  if (!isObject(doc)) return { ok: false, reason: 'not a signed certificate: the document is not a JSON object' };
  const { certificate, signature } = doc;
  if (!isObject(certificate)) return { ok: false, reason: 'not a signed certificate: "certificate" is missing or not an object' };
  if (!isObject(signature)) return { ok: false, reason: 'not a signed certificate: "signature" is missing or not an object' };
  if (signature.alg !== SIGNATURE_ALG) return { ok: false, reason: `unsupported signature algorithm ${JSON.stringify(signature.alg)} (expected "${SIGNATURE_ALG}")` };
  const { keyId, value } = signature;
  if (typeof keyId !== 'string' || typeof value !== 'string') return { ok: false, reason: 'not a signed certificate: signature.keyId and signature.value must be strings' };
  if (certificate.keyId !== keyId) {
    return { ok: false, reason: `key id mismatch: the signature names ${keyId}, the certificate ${JSON.stringify(certificate.keyId)}` };
  }
  const key = keys.get(keyId);
  if (key === undefined) return { ok: false, reason: `unknown key id ${keyId} (keys given: ${[...keys.keys()].join(', ') || 'none'})` };
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== value) {
    return { ok: false, reason: 'bad signature: signature.value is not 64 bytes of base64' };
  }
  let body: string;
  try {
    body = canonicalJson(certificate);
  } catch (err) {
    return { ok: false, reason: `malformed certificate: ${(err as Error).message}` };
  }
  if (!verify(null, Buffer.from(body, 'utf8'), key, bytes)) {
    return { ok: false, reason: `bad signature: the certificate does not match its signature by key ${keyId} (altered after signing)` };
  }
  return { ok: true, keyId, certificate };
}
