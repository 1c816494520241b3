/** What ingest keeps current: prices, tag and reader state, and the batches already applied. */
import type { BatchSegments } from './batch-segments.ts';
import { auditEntry, type AlertChange, type PriceRecord, type ReaderHealth, type StatusChange, type TagState } from '@pledgewatch/common';
import type { BatchCommit, Checkpoint, LoggedBatch, StateLiveOps } from '../state.ts';
import { later, writeTx, type Db } from './db.ts';
import type { AuditWriter } from './audit.ts';
import type { AlertWriter } from './state-alerts.ts';
import { bumpStatement } from './state-changes.ts';
import { toMs } from './time.ts';


interface TagRow {
  epc: string;
  gateway_id: string;
  site_id: string;
  zone: string;
  reader_id: string;
  present: number;
  last_seen_at: string;
  updated_at: string;
}

interface PendingRow {
  gateway_id: string;
  seq: number;
  applied_at: string;
  payload: Buffer;
  segment: string | null;
  seg_offset: number | null;
}

interface ReaderRow {
  gateway_id: string;
  reader_id: string;
  connected: number;
  at: string;
}

const TAG_CHUNK = 10;
const TAG_COLUMNS = 'epc, gateway_id, site_id, zone, reader_id, present, last_seen_at, updated_at';
const TAG_FIELDS = 8;

/** `segments`: where batch payloads go; null keeps them in the row (an in-memory database). */
export function liveOps(db: Db, writeAlerts: AlertWriter, audit: AuditWriter, segments: BatchSegments | null): StateLiveOps {
  // The WHERE on the update makes an older or equal-time price a no-op, seen as changes = 0.
  const upsertPrice = db.prepare<[string, number, string]>(
    `INSERT INTO prices (commodity, at, body) VALUES (?, ?, ?)
     ON CONFLICT (commodity) DO UPDATE SET at = excluded.at, body = excluded.body
     WHERE excluded.at > prices.at`,
  );
  const priceOf = db.prepare<[string], string>('SELECT body FROM prices WHERE commodity = ?').pluck();
  // A new price is recorded, in the same transaction, in the chain of every pledge of its commodity.
  const putPrice = writeTx(db, (price: PriceRecord): boolean => {
    const previous = priceOf.get(price.commodity);
    if (upsertPrice.run(price.commodity, toMs(price.at, 'price.at'), JSON.stringify(price)).changes === 0) return false;
    const entry = auditEntry.price(price, previous === undefined ? null : (JSON.parse(previous) as PriceRecord));
    if (entry !== null) audit.appendToCommodity(price.commodity, entry);
    return true;
  });
  const allPrices = db.prepare<[], string>('SELECT body FROM prices ORDER BY commodity').pluck();

  const insertBatch = db.prepare<[string, number, string]>(
    'INSERT INTO applied_batches (gateway_id, seq, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  // REPLACE rather than an upsert: a tag row is always written whole, and REPLACE costs about two
  // thirds of ON CONFLICT DO UPDATE. Rows go TAG_CHUNK to a statement, a third cheaper again than one
  // each: a checkpoint after a busy second writes tens of thousands.
  const tagRow = '(?, ?, ?, ?, ?, ?, ?, ?)';
  const putTags = db.prepare<unknown[]>(
    `INSERT OR REPLACE INTO tags (${TAG_COLUMNS}) VALUES ${Array.from({ length: TAG_CHUNK }, () => tagRow).join(', ')}`,
  );
  const putTag = db.prepare<unknown[]>(`INSERT OR REPLACE INTO tags (${TAG_COLUMNS}) VALUES ${tagRow}`);
  // One parameter array, filled in place for each chunk.
  const chunk: unknown[] = new Array(TAG_CHUNK * TAG_FIELDS);
  const writeTags = (tags: readonly TagState[]) => {
    let i = 0;
    for (; i + TAG_CHUNK <= tags.length; i += TAG_CHUNK) {
      for (let k = 0; k < TAG_CHUNK; k++) putTagValues(chunk, k * TAG_FIELDS, tags[i + k] as TagState);
      putTags.run(chunk);
    }
    for (; i < tags.length; i++) putTag.run(tagValues(tags[i] as TagState));
  };
  const upsertReader = db.prepare<[ReaderRow]>(
    `INSERT INTO readers (gateway_id, reader_id, connected, at) VALUES (@gateway_id, @reader_id, @connected, @at)
     ON CONFLICT (gateway_id, reader_id) DO UPDATE SET connected = excluded.connected, at = excluded.at`,
  );
  // One JSON array parameter instead of one parameter per EPC: no chunking around SQLite's
  // variable limit, and the statement is prepared once for any number of EPCs.
  const tagsIn = db.prepare<[string], TagRow>(
    `SELECT ${TAG_COLUMNS} FROM tags WHERE epc IN (SELECT value FROM json_each(?))`,
  );
  const allTags = db.prepare<[], TagRow>(`SELECT ${TAG_COLUMNS} FROM tags ORDER BY epc`);
  const allReaders = db.prepare<[], ReaderRow>(
    'SELECT gateway_id, reader_id, connected, at FROM readers ORDER BY gateway_id, reader_id',
  );

  const logBatch = db.prepare<[string, number, string, Buffer, string | null, number | null]>(
    'INSERT INTO batch_log (gateway_id, seq, applied_at, payload, segment, seg_offset) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const retireBatch = db.prepare<[string, number]>('DELETE FROM batch_log WHERE gateway_id = ? AND seq = ?');
  const pending = db.prepare<[], PendingRow>('SELECT gateway_id, seq, applied_at, payload, segment, seg_offset FROM batch_log ORDER BY id');
  const segmentsInUse = db.prepare<[], string>('SELECT DISTINCT segment FROM batch_log WHERE segment IS NOT NULL').pluck();
  const EMPTY = Buffer.alloc(0);

  // The alert and status changes a batch caused commit with its log entry: a crash keeps all or none.
  // A redelivered batch is refused by the applied_batches insert before its payload is written
  // anywhere (one statement, not a lookup first); a fresh one's payload is in its segment before the
  // row that points to it commits (a crash between leaves unreferenced bytes, pruned with their segment).
  const logOne = (batch: LoggedBatch, alerts: readonly AlertChange[], statuses: readonly StatusChange[]): boolean => {
    if (insertBatch.run(batch.gatewayId, batch.seq, batch.appliedAt).changes === 0) return false;
    const ref = segments?.append(batch.payload) ?? null;
    logBatch.run(batch.gatewayId, batch.seq, batch.appliedAt, ref === null ? batch.payload : EMPTY, ref?.segment ?? null, ref?.offset ?? null);
    writeAlerts(alerts, statuses);
    return true;
  };
  const commitBatch = writeTx(db, logOne);
  const commitBatches = writeTx(db, (entries: readonly BatchCommit[]): boolean[] => entries.map((e) => logOne(e.batch, e.alerts, e.statuses)));
  const applied = db.prepare<[string, number], number>('SELECT 1 FROM applied_batches WHERE gateway_id = ? AND seq = ?').pluck();
  const pendingBatches = (): LoggedBatch[] =>
    pending.all().flatMap((r) => {
      const payload = r.segment === null || segments === null ? r.payload : segments.read({ segment: r.segment, offset: r.seg_offset ?? 0 });
      if (payload instanceof Error) {
        process.emitWarning(`skipping logged batch ${r.gateway_id}#${r.seq}: ${payload.message}`, { code: 'PW_BATCH_LOG' });
        return [];
      }
      return [{ gatewayId: r.gateway_id, seq: r.seq, appliedAt: r.applied_at, payload }];
    });
  const tagsChanged = bumpStatement(db, 'tags');
  const checkpoint = writeTx(db, (c: Checkpoint): void => {
    writeTags(c.tags);
    if (c.tags.length > 0) tagsChanged();
    for (const reader of c.readers) upsertReader.run(fromReader(reader));
    for (const b of c.batches) retireBatch.run(b.gatewayId, b.seq);
  });

  return {
    putPrice: (price) => later(() => putPrice(price)),
    getPrice: (commodity) =>
      later(() => {
        const body = priceOf.get(commodity);
        return body === undefined ? null : (JSON.parse(body) as PriceRecord);
      }),
    listPrices: () => later(() => allPrices.all().map((body) => JSON.parse(body) as PriceRecord)),
    commitBatch: (batch, alerts = [], statuses = []) => later(() => commitBatch(batch, alerts, statuses)),
    commitBatches: (entries) => later(() => commitBatches(entries)),
    isApplied: (gatewayId, seq) => later(() => applied.get(gatewayId, seq) !== undefined),
    checkpoint: (c) =>
      later(() => {
        checkpoint(c);
        if (segments !== null && c.batches.length > 0) segments.prune(new Set(segmentsInUse.all()));
      }),
    pendingBatches: () => later(pendingBatches),
    getTags: (epcs) => later(() => (epcs.length === 0 ? [] : tagsIn.all(JSON.stringify(epcs)).map(toTag))),
    listTags: () => later(() => allTags.all().map(toTag)),
    listReaders: () => later(() => allReaders.all().map(toReader)),
  };
}

function tagValues(t: TagState): unknown[] {
  return putTagValues(new Array(TAG_FIELDS), 0, t);
}

/** A tag row's values (in TAG_COLUMNS order) into `into` from `at`. */
function putTagValues(into: unknown[], at: number, t: TagState): unknown[] {
  into[at] = t.epc;
  into[at + 1] = t.gatewayId;
  into[at + 2] = t.siteId;
  into[at + 3] = t.zone;
  into[at + 4] = t.readerId;
  into[at + 5] = t.present ? 1 : 0;
  into[at + 6] = t.lastSeenAt;
  into[at + 7] = t.updatedAt;
  return into;
}

function toTag(row: TagRow): TagState {
  return {
    epc: row.epc,
    gatewayId: row.gateway_id,
    siteId: row.site_id,
    zone: row.zone,
    readerId: row.reader_id,
    present: row.present === 1,
    lastSeenAt: row.last_seen_at,
    updatedAt: row.updated_at,
  };
}

function fromReader(reader: ReaderHealth): ReaderRow {
  return { gateway_id: reader.gatewayId, reader_id: reader.readerId, connected: reader.connected ? 1 : 0, at: reader.at };
}

function toReader(row: ReaderRow): ReaderHealth {
  return { gatewayId: row.gateway_id, readerId: row.reader_id, connected: row.connected === 1, at: row.at };
}
