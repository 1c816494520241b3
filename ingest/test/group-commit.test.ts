/**
 * Group commit (group-commit.ts): batches handled in a run (`more`, as the embedded broker's hand-over
 * gives them) are logged together once the run ends, a redelivery or a repeat inside the run is still
 * dropped before it is applied, a checkpoint in the middle of a run logs it first, and a run that
 * cannot be logged stops ingest. Real SQLite stores, the fake clock of the scenario harness.
 */
import type { BatchCommit } from '@pledgewatch/store';
import { afterEach, expect, it } from 'vitest';
import { arrivals, bigPledge, range, startScenario, type Scenario } from './scenario-harness.ts';
import { epc } from './harness.ts';
import { sleep, waitFor } from '@pledgewatch/common/testing';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Records each group the store is asked to log. */
function watchGroups(scenario: Scenario): number[][] {
  const groups: number[][] = [];
  const inner = scenario.store.commitBatches.bind(scenario.store);
  scenario.store.commitBatches = (entries: readonly BatchCommit[]) => {
    groups.push(entries.map((e) => e.batch.seq));
    return inner(entries);
  };
  return groups;
}

const loggedSeqs = async (scenario: Scenario) => (await scenario.store.pendingBatches()).map((b) => b.seq);

it('logs a run of batches together once the run ends, dropping a redelivery and a repeat inside it', async () => {
  s = await startScenario({ pledges: [bigPledge(6)] });
  const groups = watchGroups(s);
  await s.send(arrivals(s, [1]), { seq: 1 });
  await s.send(arrivals(s, [2]), { seq: 2, more: true });
  await s.send(arrivals(s, [1]), { seq: 1, more: true }); // logged before: a redelivery
  await s.send(arrivals(s, [3]), { seq: 3, more: true });
  await s.send(arrivals(s, [3]), { seq: 3, more: true }); // twice in the run
  // Nothing of the run is logged before it ends…
  expect(await loggedSeqs(s)).toEqual([1]);
  await s.send(arrivals(s, [4]), { seq: 4 });
  // …then all of it at once, each batch once.
  expect(groups).toEqual([[2, 3, 4]]);
  expect(await loggedSeqs(s)).toEqual([1, 2, 3, 4]);
  expect(await s.counter('pw_ingest_duplicate_batches_total')).toBe(2);
  expect(await s.counter('pw_ingest_events_total')).toBe(4);
  await s.advance(1_000);
  expect((await s.store.getTags(range(1, 4).map(epc))).map((t) => t.epc)).toEqual(range(1, 4).map(epc));
});

it('logs a run before a checkpoint retires any of it', async () => {
  s = await startScenario({ pledges: [bigPledge(6)] });
  await s.send(arrivals(s, [1]), { seq: 1, more: true });
  await s.send(arrivals(s, [2]), { seq: 2, more: true });
  // The checkpoint's timer fires in the middle of the run.
  await s.advance(1_000);
  expect(await s.store.isApplied('gw-1', 2)).toBe(true);
  expect((await s.store.getTags([epc(1), epc(2)])).length).toBe(2);
  await s.send(arrivals(s, [3]), { seq: 3 });
  await s.advance(1_000);
  // Everything checkpointed is retired; nothing is left pending, nothing logged twice.
  expect(await loggedSeqs(s)).toEqual([]);
  expect((await s.store.getTags(range(1, 3).map(epc))).length).toBe(3);
});

it('stops ingest when a run cannot be logged', async () => {
  const fatal: unknown[] = [];
  s = await startScenario({ pledges: [bigPledge(6)], onFatal: (err) => fatal.push(err) });
  s.store.commitBatches = () => Promise.reject(new Error('disk full'));
  await s.send(arrivals(s, [1]), { seq: 1, more: true });
  await expect(s.send(arrivals(s, [2]), { seq: 2 })).rejects.toThrow('disk full');
  expect(fatal).toHaveLength(1);
  // Nothing more is logged while ingest stops, not even a batch alone (whose own commit would work).
  await expect(s.send(arrivals(s, [3]), { seq: 3 })).rejects.toThrow('disk full');
  expect(await loggedSeqs(s)).toEqual([]);
});

/** Holds every group write until `release` (a slow write: PostgreSQL, or another shard holding the write lock). */
function slowGroupWrites(scenario: Scenario): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const inner = scenario.store.commitBatches.bind(scenario.store);
  scenario.store.commitBatches = async (entries: readonly BatchCommit[]) => {
    await gate;
    return inner(entries);
  };
  return release;
}

it('does not retire a batch staged while a checkpoint waits for the run before it to be logged', async () => {
  s = await startScenario({ pledges: [bigPledge(6)] });
  const release = slowGroupWrites(s);
  await s.send(arrivals(s, [1]), { seq: 1, more: true });
  await s.advance(1_000); // the checkpoint starts logging the run [1]…
  await s.send(arrivals(s, [2]), { seq: 2, more: true }); // …and the next run starts meanwhile
  release();
  const scenario = s;
  await waitFor('the first run logged and checkpointed', async () => (await scenario.store.isApplied('gw-1', 1)) && (await loggedSeqs(scenario)).length === 0);
  await s.send(arrivals(s, [3]), { seq: 3 });
  await s.advance(1_000);
  // Batch 2 was logged before a checkpoint retired it, not after (which would leave it pending for good).
  expect(await loggedSeqs(s)).toEqual([]);
  expect((await s.store.getTags(range(1, 3).map(epc))).length).toBe(3);
});

it('writes alert changes of its own and looks at the open alerts only after the run staged before', async () => {
  s = await startScenario({ pledges: [bigPledge(10)] });
  const release = slowGroupWrites(s);
  // DAMAGE opens at once for a shock; the alert is staged with its batch.
  await s.send([{ type: 'reading', at: s.now(), sensorId: 'acc-1', kind: 'shock', zone: 'A1', value: 6.5, unit: 'g' }], { seq: 1, more: true });
  // The rules' ticks meanwhile, one of them looking at the store's open alerts (every 5 s). With the
  // fix they wait for the run to be logged, so this does not finish before the release.
  const ticks = s.advance(5_000);
  await Promise.race([ticks, sleep(200)]);
  release();
  await ticks;
  await s.send(arrivals(s, [1]), { seq: 2 });
  await s.advance(5_000);
  expect((await s.alerts()).map((a) => [a.type, a.status, a.occurrences])).toEqual([['DAMAGE', 'open', 1]]);
  expect((await s.store.eventsAfter(0, 100)).map((e) => e.type)).toEqual(['alert.opened']);
});
