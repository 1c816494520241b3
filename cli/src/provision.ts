/** Creating the identities the system hands out: API keys for lenders, MQTT accounts for gateways and feeds. */
import { isId, isoTime, PwError } from '@pledgewatch/common';
import { generatePassword, hashPassword, upsertMosquittoAccount, type MosquittoFiles } from '@pledgewatch/ingest';

/** Broker accounts that are not gateways or feeds: ingest's (reads pw/v1/#) and health checks' (reads $SYS/#). */
export type ServiceRole = 'service' | 'monitor';
import { issueApiKey } from '@pledgewatch/monitor-api';
import type { MqttAccountKind, StateStore } from '@pledgewatch/store';

function requireId(what: string, value: string): void {
  if (!isId(value)) throw new PwError('VALIDATION', `${what} "${value}" must match [A-Za-z0-9._-]{1,64}`);
}

export async function createApiKey(store: StateStore, tenant: string): Promise<string> {
  requireId('tenant', tenant);
  return (await issueApiKey(store, tenant, Date.now())).key;
}

/**
 * Registers a gateway or feed and returns its MQTT password. With `mosquitto`, the account is added to
 * Mosquitto's password and ACL files too — before the store, so that a failure there changes nothing.
 */
export async function createMqttAccount(
  store: StateStore,
  id: string,
  kind: MqttAccountKind,
  siteId: string | null,
  opts: { mosquitto?: MosquittoFiles } = {},
): Promise<string> {
  requireId(kind === 'gateway' ? 'gateway id' : 'feed id', id);
  if (siteId !== null) requireId('site', siteId);
  if ((await store.getMqttAccount(id)) !== null) throw new PwError('ACCOUNT_EXISTS', `MQTT account "${id}" already exists`);
  const password = generatePassword();
  if (opts.mosquitto !== undefined) {
    // Never over an existing entry: that may be ingest's service account, or another operator's hand edit.
    await upsertMosquittoAccount(opts.mosquitto, { username: id, password, role: kind });
  }
  await store.createMqttAccount({ id, kind, siteId, passwordHash: await hashPassword(password), createdAt: isoTime(Date.now()) });
  return password;
}

/**
 * A broker account that is not a gateway or feed: ingest's service account, or a monitor for health
 * checks. Only Mosquitto's files hold it (the embedded broker makes its own per process); running the
 * command again gives the account a new password.
 */
export async function createBrokerUser(
  store: StateStore,
  username: string,
  mosquitto: MosquittoFiles,
  opts: { password?: string; role?: ServiceRole } = {},
): Promise<string> {
  const { password, role = 'service' } = opts;
  requireId('MQTT user name', username);
  if ((await store.getMqttAccount(username)) !== null) {
    throw new PwError('ACCOUNT_EXISTS', `"${username}" is a gateway or feed account; pick another name for the service account`);
  }
  if (password !== undefined && password.length < 16) throw new PwError('VALIDATION', 'a broker service password must have at least 16 characters');
  const secret = password ?? generatePassword();
  await upsertMosquittoAccount(mosquitto, { username, password: secret, role }, { replace: true });
  return secret;
}

export function mosquittoFiles(config: { mosquittoPasswordFile?: string; mosquittoAclFile?: string }): MosquittoFiles | undefined {
  return config.mosquittoPasswordFile === undefined || config.mosquittoAclFile === undefined
    ? undefined
    : { passwordFile: config.mosquittoPasswordFile, aclFile: config.mosquittoAclFile };
}
