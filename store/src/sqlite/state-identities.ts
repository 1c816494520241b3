/** API keys, MQTT accounts and the gateway status recorded on them. */
import { PwError, type GatewayStatusMessage } from '@pledgewatch/common';
import type { ApiKeyRecord, GatewayRecord, MqttAccount, MqttAccountKind, StateStore } from '../state.ts';
import { later, writeRun, type Db } from './db.ts';

type IdentityOps = Pick<
  StateStore,
  | 'createApiKey'
  | 'findApiKeyByHash'
  | 'createMqttAccount'
  | 'getMqttAccount'
  | 'getGateway'
  | 'listGateways'
  | 'listSites'
  | 'recordGatewayStatus'
>;

interface ApiKeyRow {
  id: string;
  tenant: string;
  hash: string;
  created_at: string;
}

interface AccountRow {
  id: string;
  kind: MqttAccountKind;
  site_id: string | null;
  password_hash: string;
  created_at: string;
  online: number | null;
  last_seen_at: string | null;
  status: string | null;
}

const ACCOUNT_COLUMNS = 'id, kind, site_id, password_hash, created_at, online, last_seen_at, status';

export function identityOps(db: Db): IdentityOps {
  const insertKey = db.prepare<[ApiKeyRow]>(
    'INSERT INTO api_keys (id, tenant, hash, created_at) VALUES (@id, @tenant, @hash, @created_at)',
  );
  const keyByHash = db.prepare<[string], ApiKeyRow>('SELECT id, tenant, hash, created_at FROM api_keys WHERE hash = ?');
  const insertAccount = db.prepare<[Pick<AccountRow, 'id' | 'kind' | 'site_id' | 'password_hash' | 'created_at'>]>(
    `INSERT INTO mqtt_accounts (id, kind, site_id, password_hash, created_at)
     VALUES (@id, @kind, @site_id, @password_hash, @created_at)
     ON CONFLICT (id) DO NOTHING`,
  );
  const accountById = db.prepare<[string], AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM mqtt_accounts WHERE id = ?`);
  const gatewayById = db.prepare<[string], AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM mqtt_accounts WHERE id = ? AND kind = 'gateway'`,
  );
  const gateways = db.prepare<[], AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM mqtt_accounts WHERE kind = 'gateway' ORDER BY id`,
  );
  const sites = db
    .prepare<[], string>(
      `SELECT DISTINCT site_id FROM mqtt_accounts WHERE kind = 'gateway' AND site_id IS NOT NULL ORDER BY site_id`,
    )
    .pluck();
  const updateStatus = db.prepare<[{ id: string; online: number; last_seen_at: string; status: string }]>(
    `UPDATE mqtt_accounts SET online = @online, last_seen_at = @last_seen_at, status = @status
     WHERE id = @id AND kind = 'gateway'`,
  );

  return {
    createApiKey: (key) =>
      later(() => {
        writeRun(db, () => insertKey.run({ id: key.id, tenant: key.tenant, hash: key.hash, created_at: key.createdAt }));
      }),

    findApiKeyByHash: (hash) =>
      later(() => {
        const row = keyByHash.get(hash);
        return row === undefined ? null : toApiKey(row);
      }),

    createMqttAccount: (account) =>
      later(() => {
        const { changes } = writeRun(db, () =>
          insertAccount.run({
            id: account.id,
            kind: account.kind,
            site_id: account.siteId,
            password_hash: account.passwordHash,
            created_at: account.createdAt,
          }),
        );
        if (changes === 0) throw new PwError('ACCOUNT_EXISTS', `MQTT account ${account.id} already exists`);
      }),

    getMqttAccount: (id) =>
      later(() => {
        const row = accountById.get(id);
        return row === undefined ? null : toAccount(row);
      }),

    getGateway: (id) =>
      later(() => {
        const row = gatewayById.get(id);
        return row === undefined ? null : toGateway(row);
      }),

    listGateways: () => later(() => gateways.all().map(toGateway)),

    listSites: () => later(() => sites.all()),

    // A status for an id without a gateway account is dropped: the broker only lets registered
    // gateways publish, so such a message can only be a leftover of a deleted account.
    recordGatewayStatus: (id, status, receivedAt) =>
      later(() => {
        writeRun(db, () => updateStatus.run({ id, online: status.online ? 1 : 0, last_seen_at: receivedAt, status: JSON.stringify(status) }));
      }),
  };
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return { id: row.id, tenant: row.tenant, hash: row.hash, createdAt: row.created_at };
}

function toAccount(row: AccountRow): MqttAccount {
  return { id: row.id, kind: row.kind, siteId: row.site_id, passwordHash: row.password_hash, createdAt: row.created_at };
}

function toGateway(row: AccountRow): GatewayRecord {
  return {
    id: row.id,
    // Gateways are always created with a site; '' only shields the type from a hand-edited row.
    siteId: row.site_id ?? '',
    createdAt: row.created_at,
    online: row.online === null ? null : row.online === 1,
    lastSeenAt: row.last_seen_at,
    status: row.status === null ? null : (JSON.parse(row.status) as GatewayStatusMessage),
  };
}
