/**
 * The Ed25519 key that signs valuation certificates: generated on first start and kept in a PEM file
 * (PKCS#8, mode 0600), so its key id — and every certificate it signed — stays valid across restarts.
 * Several API instances share one key by pointing at the same file (PW_SIGNING_KEY_FILE).
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signingKeyFromPem, type SigningKey } from '@pledgewatch/common';

export interface LoadedSigningKey {
  key: SigningKey;
  path: string;
  /** true when this call generated the key (first start). */
  created: boolean;
  /** What an operator should fix, e.g. a key file others can read; the caller logs it. */
  warnings: string[];
}

/** The key in `path`, or a new one written there when the file does not exist. */
export function loadOrCreateSigningKey(path: string): LoadedSigningKey {
  const existing = readKeyFile(path);
  if (existing !== null) return existing;
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // Written whole under a temporary name, then linked into place: the link fails if another process
  // created the key meanwhile (then both use theirs), and nobody ever reads a half-written key.
  const tmp = `${path}.${randomUUID()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readKeyFile(path);
    if (theirs !== null) return theirs;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  return { key: signingKeyFromPem(pem, path), path, created: true, warnings: [] };
}

function readKeyFile(path: string): LoadedSigningKey | null {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read the signing key (${(err as Error).message})`, { cause: err });
  }
  const warnings: string[] = [];
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) warnings.push(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it, the key signs certificates`);
  return { key: signingKeyFromPem(pem, path), path, created: false, warnings };
}
