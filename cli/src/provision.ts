/** Creating the identities the system hands out: API keys for lenders, MQTT accounts for gateways and feeds. */
import { isId, isoTime, PwError } from '@pledgewatch/common';
import { generatePassword, hashPassword } from '@pledgewatch/ingest';
import { issueApiKey } from '@pledgewatch/monitor-api';
import type { MqttAccountKind, StateStore } from '@pledgewatch/store';

function requireId(what: string, value: string): void {
  if (!isId(value)) throw new PwError('VALIDATION', `${what} "${value}" must match [A-Za-z0-9._-]{1,64}`);
}

export async function createApiKey(store: StateStore, tenant: string): Promise<string> {
  requireId('tenant', tenant);
  return (await issueApiKey(store, tenant, Date.now())).key;
}

export async function createMqttAccount(
  store: StateStore,
  id: string,
  kind: MqttAccountKind,
  siteId: string | null,
): Promise<string> {
  requireId(kind === 'gateway' ? 'gateway id' : 'feed id', id);
  if (siteId !== null) requireId('site', siteId);
  const password = generatePassword();
  await store.createMqttAccount({ id, kind, siteId, passwordHash: await hashPassword(password), createdAt: isoTime(Date.now()) });
  return password;
}
