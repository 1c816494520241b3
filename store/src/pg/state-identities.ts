/** API keys, MQTT accounts and the gateway status recorded on them. */
import { PwError, type GatewayStatusMessage } from '@pledgewatch/common';
import type { GatewayRecord, MqttAccount, MqttAccountKind, StateStore } from '../state.ts';
import type { Pool } from './db.ts';

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
  online: boolean | null;
  last_seen_at: string | null;
  status: string | null;
}

const ACCOUNT_COLUMNS = 'id, kind, site_id, password_hash, created_at, online, last_seen_at, status';

export function identityOps(pool: Pool): IdentityOps {
  const account = async (where: string, id: string): Promise<AccountRow | undefined> =>
    (await pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM mqtt_accounts WHERE ${where}`, [id])).rows[0];

  return {
    createApiKey: async (key) => {
      await pool.query('INSERT INTO api_keys (id, tenant, hash, created_at) VALUES ($1, $2, $3, $4)', [
        key.id,
        key.tenant,
        key.hash,
        key.createdAt,
      ]);
    },

    findApiKeyByHash: async (hash) => {
      const { rows } = await pool.query<ApiKeyRow>('SELECT id, tenant, hash, created_at FROM api_keys WHERE hash = $1', [hash]);
      const row = rows[0];
      return row === undefined ? null : { id: row.id, tenant: row.tenant, hash: row.hash, createdAt: row.created_at };
    },

    createMqttAccount: async (a) => {
      const { rowCount } = await pool.query(
        `INSERT INTO mqtt_accounts (id, kind, site_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING`,
        [a.id, a.kind, a.siteId, a.passwordHash, a.createdAt],
      );
      if (rowCount === 0) throw new PwError('ACCOUNT_EXISTS', `MQTT account ${a.id} already exists`);
    },

    getMqttAccount: async (id) => {
      const row = await account('id = $1', id);
      return row === undefined ? null : toAccount(row);
    },

    getGateway: async (id) => {
      const row = await account(`id = $1 AND kind = 'gateway'`, id);
      return row === undefined ? null : toGateway(row);
    },

    listGateways: async () =>
      (await pool.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM mqtt_accounts WHERE kind = 'gateway' ORDER BY id COLLATE "C"`)).rows.map(
        toGateway,
      ),

    listSites: async () =>
      (
        await pool.query<{ site_id: string }>(
          `SELECT site_id FROM mqtt_accounts WHERE kind = 'gateway' AND site_id IS NOT NULL GROUP BY site_id ORDER BY site_id COLLATE "C"`,
        )
      ).rows.map((r) => r.site_id),

    // A status for an id without a gateway account is dropped, as in the SQLite adapter.
    recordGatewayStatus: async (id, status, receivedAt) => {
      await pool.query(
        `UPDATE mqtt_accounts SET online = $2, last_seen_at = $3, status = $4 WHERE id = $1 AND kind = 'gateway'`,
        [id, status.online, receivedAt, JSON.stringify(status)],
      );
    },
  };
}

function toAccount(row: AccountRow): MqttAccount {
  return { id: row.id, kind: row.kind, siteId: row.site_id, passwordHash: row.password_hash, createdAt: row.created_at };
}

function toGateway(row: AccountRow): GatewayRecord {
  return {
    id: row.id,
    siteId: row.site_id ?? '',
    createdAt: row.created_at,
    online: row.online,
    lastSeenAt: row.last_seen_at,
    status: row.status === null ? null : (JSON.parse(row.status) as GatewayStatusMessage),
  };
}

