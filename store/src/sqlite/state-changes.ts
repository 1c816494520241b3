/**
 * The change counters of the port (ChangeVersions in state.ts): one row per kind, moved by triggers in
 * the writing transaction, so every path that changes a table counts, whoever wrote it. Tags are the
 * exception: a checkpoint writes thousands of rows and a row trigger costs a third more per row (SQLite
 * has no statement triggers), so the checkpoint moves 'tags' once itself (`bumpStatement`).
 */
import { CHANGE_KINDS, type ChangeKind, type ChangeVersions, type StateStore } from '../state.ts';
import { later, type Db } from './db.ts';

type ChangeOps = Pick<StateStore, 'changeVersions'>;

const bump = (kind: ChangeKind) => `UPDATE change_versions SET version = version + 1 WHERE kind = '${kind}'`;

/** A row trigger moving `kind` on `event` (optionally only WHEN `when` holds). */
function trigger(name: string, event: string, kind: ChangeKind, when?: string): string {
  return `CREATE TRIGGER ${name} AFTER ${event}${when === undefined ? '' : ` WHEN ${when}`} BEGIN ${bump(kind)}; END;`;
}

/** Every insert, update and delete of `table` moves `kind`. */
const anyChange = (table: string, kind: ChangeKind) =>
  ['INSERT', 'UPDATE', 'DELETE'].map((event) => trigger(`${table}_${event.toLowerCase()}_changes`, `${event} ON ${table}`, kind));

/** Component 'changes', migrated after 'state' and 'valuation' (it watches their tables). */
export const CHANGE_MIGRATIONS: readonly string[] = [
  [
    'CREATE TABLE change_versions (kind TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;',
    `INSERT INTO change_versions (kind, version) VALUES ${CHANGE_KINDS.map((k) => `('${k}', 0)`).join(', ')};`,
    ...anyChange('api_keys', 'api_keys'),
    trigger('pledges_insert_changes', 'INSERT ON pledges', 'pledges'),
    trigger('pledges_delete_changes', 'DELETE ON pledges', 'pledges'),
    trigger('pledges_body_changes', 'UPDATE OF body ON pledges', 'pledges', 'OLD.body IS NOT NEW.body'),
    // Ingest publishes a status only when it changes, but a rewrite of the same one must not empty caches.
    trigger('pledges_status_changes', 'UPDATE OF valuation_status ON pledges', 'statuses', 'OLD.valuation_status IS NOT NEW.valuation_status'),
    // Heartbeats rewrite a gateway's row every interval; only going on- or offline changes quantities.
    trigger('gateways_insert_changes', 'INSERT ON mqtt_accounts', 'readers'),
    trigger('gateways_delete_changes', 'DELETE ON mqtt_accounts', 'readers'),
    trigger('gateways_online_changes', 'UPDATE OF online ON mqtt_accounts', 'readers', 'OLD.online IS NOT NEW.online'),
    trigger('readers_insert_changes', 'INSERT ON readers', 'readers'),
    trigger('readers_delete_changes', 'DELETE ON readers', 'readers'),
    trigger('readers_connected_changes', 'UPDATE OF connected ON readers', 'readers', 'OLD.connected IS NOT NEW.connected'),
    ...anyChange('prices', 'prices'),
    ...anyChange('fx_rates', 'fx'),
    ...anyChange('releases', 'releases'),
  ].join('\n'),
];

export function changeOps(db: Db): ChangeOps {
  // One JSON text instead of eight row objects: this runs at the start of every API request (a third
  // of the cost, measured).
  const all = db.prepare<[], string>('SELECT json_group_object(kind, version) FROM change_versions').pluck();
  return {
    changeVersions: () => later(() => versionsOf(JSON.parse(all.get() ?? '{}') as Record<string, number>)),
  };
}

/** Moves `kind` when run, inside the caller's transaction: for the writes no trigger watches (tags). */
export function bumpStatement(db: Db, kind: ChangeKind): () => void {
  const statement = db.prepare(bump(kind));
  return () => {
    statement.run();
  };
}

/** Versions by kind as ChangeVersions; a kind without one (a newer program's) reads 0. */
export function versionsOf(byKind: Readonly<Record<string, number | string>>): ChangeVersions {
  const out = {} as Record<ChangeKind, number>;
  for (const k of CHANGE_KINDS) out[k] = Number(byKind[k] ?? 0);
  return out;
}
