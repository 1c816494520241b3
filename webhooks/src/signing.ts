/**
 * Standard Webhooks signing (standardwebhooks.com): `v1,` + base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}", keyed by the base64-decoded secret after "whsec_".
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes (the spec asks for 24 to 64). */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

export function isSecret(value: string): boolean {
  if (!value.startsWith(PREFIX)) return false;
  const key = Buffer.from(value.slice(PREFIX.length), 'base64');
  return key.length >= 24 && key.length <= 64;
}

export function sign(secret: string, msgId: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The three headers of a delivery. While a secret is being rotated both the new and the old secret
 * sign it (space-separated, as the spec allows), so receivers can switch over at their own pace.
 */
export function webhookHeaders(secrets: readonly string[], msgId: string, timestampS: number, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': secrets.map((s) => sign(s, msgId, timestampS, body)).join(' '),
  };
}
