/**
 * API keys: `pw_` + base64url of 32 random bytes. Only the sha256 of a key is stored, so a leaked
 * database does not leak usable keys; 256 random bits make a salted slow hash unnecessary.
 */
import { hash, randomBytes } from 'node:crypto';
import type { StateStore } from '@pledgewatch/store';
import { isoTime } from '@pledgewatch/common';

export const API_KEY_PREFIX = 'pw_';
/** base64url of 32 bytes is 43 characters, unpadded. */
const API_KEY_PATTERN = /^pw_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** Shown once to whoever created it; never stored. */
  key: string;
  /** sha256 hex of `key`, what the store keeps. */
  hash: string;
  /** Public id of the key, to name it in lists and logs. */
  id: string;
}

export function hashApiKey(key: string): string {
  // The one-shot form: every authenticated request hashes its key, and a Hash object per call costs double.
  return hash('sha256', key, 'hex');
}

export function generateApiKey(): GeneratedApiKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), id: `ak_${randomBytes(9).toString('base64url')}` };
}

/** True when `key` has the shape of a key this product issues (a cheap check before a store lookup). */
export function isApiKeyShaped(key: string): boolean {
  return API_KEY_PATTERN.test(key);
}

/** Creates a key for a tenant and stores its hash; returns the key, which exists nowhere else. */
export async function issueApiKey(
  store: Pick<StateStore, 'createApiKey'>,
  tenant: string,
  now: number,
): Promise<{ key: string; id: string }> {
  const { key, hash, id } = generateApiKey();
  await store.createApiKey({ id, tenant, hash, createdAt: isoTime(now) });
  return { key, id };
}
