/**
 * The change counters of the port (ChangeVersions in state.ts) on PostgreSQL: one row per kind, moved
 * by triggers in the writing transaction, so every process's and every code path's writes count. Row
 * triggers where rows are few, and only for changes that matter (a heartbeat rewriting a gateway's row,
 * a reader reporting the same state, a status republished); one statement trigger on tags, whose
 * checkpoints write thousands of rows a statement. A kind's row is locked from a change until its
 * commit, so writers of one kind commit one after another: checkpoints, a price, a loan change — all
 * short transactions.
 */
import { versionsOf } from '../sqlite/state-changes.ts';
import { CHANGE_KINDS, type ChangeKind, type StateStore } from '../state.ts';
import type { Pool } from './db.ts';

type ChangeOps = Pick<StateStore, 'changeVersions'>;

function trigger(name: string, event: string, kind: ChangeKind, opts: { each?: 'ROW' | 'STATEMENT'; when?: string } = {}): string {
  const when = opts.when === undefined ? '' : ` WHEN (${opts.when})`;
  return `CREATE TRIGGER ${name} AFTER ${event} FOR EACH ${opts.each ?? 'ROW'}${when} EXECUTE FUNCTION pw_change_version('${kind}');`;
}

/** Component 'changes', migrated after 'state' and 'valuation' (it watches their tables). */
export const PG_CHANGE_MIGRATIONS: readonly string[] = [
  [
    'CREATE TABLE change_versions (kind TEXT PRIMARY KEY, version BIGINT NOT NULL);',
    `INSERT INTO change_versions (kind, version) VALUES ${CHANGE_KINDS.map((k) => `('${k}', 0)`).join(', ')};`,
    `CREATE FUNCTION pw_change_version() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       UPDATE change_versions SET version = version + 1 WHERE kind = TG_ARGV[0];
       RETURN NULL;
     END $$;`,
    trigger('api_keys_changes', 'INSERT OR UPDATE OR DELETE ON api_keys', 'api_keys'),
    trigger('pledges_changes', 'INSERT OR DELETE ON pledges', 'pledges'),
    trigger('pledges_body_changes', 'UPDATE OF body ON pledges', 'pledges', { when: 'OLD.body IS DISTINCT FROM NEW.body' }),
    trigger('pledges_status_changes', 'UPDATE OF valuation_status ON pledges', 'statuses', {
      when: 'OLD.valuation_status IS DISTINCT FROM NEW.valuation_status',
    }),
    trigger('gateways_changes', 'INSERT OR DELETE ON mqtt_accounts', 'readers'),
    trigger('gateways_online_changes', 'UPDATE OF online ON mqtt_accounts', 'readers', { when: 'OLD.online IS DISTINCT FROM NEW.online' }),
    // Row triggers: an upsert's statement-level INSERT trigger would fire for every checkpoint with readers.
    trigger('readers_changes', 'INSERT OR DELETE ON readers', 'readers'),
    trigger('readers_connected_changes', 'UPDATE OF connected ON readers', 'readers', { when: 'OLD.connected IS DISTINCT FROM NEW.connected' }),
    trigger('tags_changes', 'INSERT OR UPDATE OR DELETE ON tags', 'tags', { each: 'STATEMENT' }),
    trigger('prices_changes', 'INSERT OR UPDATE OR DELETE ON prices', 'prices'),
    trigger('fx_rates_changes', 'INSERT OR UPDATE OR DELETE ON fx_rates', 'fx'),
    trigger('releases_changes', 'INSERT OR UPDATE OR DELETE ON releases', 'releases'),
  ].join('\n'),
];

export function changeOps(pool: Pool): ChangeOps {
  return {
    // BIGINT arrives as a string from pg; versionsOf takes it as a number.
    changeVersions: async () => {
      const { rows } = await pool.query<{ kind: string; version: string }>('SELECT kind, version FROM change_versions');
      return versionsOf(Object.fromEntries(rows.map((r) => [r.kind, r.version])));
    },
  };
}
