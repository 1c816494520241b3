/** The embedded StateStore: one SQLite file in WAL mode, shared safely by ingest and monitor-api. */
import { KeyedSerial } from '@pledgewatch/common';
import type { StateStore } from '../state.ts';
import { auditReads, auditWriter } from './audit.ts';
import { BatchSegments } from './batch-segments.ts';
import { later, migrate, openDatabase } from './db.ts';
import { AUDIT_MIGRATIONS, VALUATION_MIGRATIONS } from './migrations.ts';
import { alertOps } from './state-alerts.ts';
import { CHANGE_MIGRATIONS, changeOps } from './state-changes.ts';
import { identityOps } from './state-identities.ts';
import { INGEST_MIGRATIONS, ingestOps } from './state-ingest.ts';
import { liveOps } from './state-live.ts';
import { pledgeOps } from './state-pledges.ts';
import { releaseOps } from './state-releases.ts';
import { valuationOps } from './state-valuation.ts';

export interface SqliteStateOptions {
  /** Database file, created if missing; ':memory:' for a private in-process database. */
  path: string;
  /** Size at which a batch-log segment file is closed (see batch-segments.ts); tests make it small. */
  batchSegmentBytes?: number;
  /** Shared by every thread of the process that opens this file (see write-lock.ts); none: SQLite's busy timeout alone. */
  writeLock?: SharedArrayBuffer;
}

export function openSqliteState(opts: SqliteStateOptions): StateStore {
  const db = openDatabase(opts.path, 'state', opts.writeLock);
  try {
    migrate(db, 'valuation', VALUATION_MIGRATIONS);
    migrate(db, 'audit', AUDIT_MIGRATIONS);
    migrate(db, 'changes', CHANGE_MIGRATIONS);
    migrate(db, 'ingest', INGEST_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  const ping = db.prepare('SELECT 1').pluck();
  const segments = opts.path === ':memory:' ? null : new BatchSegments(`${opts.path}.batches`, opts.batchSegmentBytes);
  const audit = auditWriter(db);
  const { write: writeAlerts, ...alerts } = alertOps(db, audit);
  // A SQLite file has one writing process (see README, "Processes"): serialising within it is enough.
  const serial = new KeyedSerial();
  return {
    kind: 'sqlite',
    exclusivePledge: (pledgeId, work) => serial.run(pledgeId, work),
    ping: () =>
      later(() => {
        ping.get();
      }),
    close: () =>
      later(() => {
        segments?.close();
        db.close();
      }),
    ...identityOps(db),
    ...pledgeOps(db, audit),
    ...liveOps(db, writeAlerts, audit, segments),
    ...alerts,
    ...releaseOps(db, audit),
    ...valuationOps(db, audit),
    ...auditReads(db),
    ...changeOps(db),
    ...ingestOps(db),
  };
}
