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
  expect(await loggedSeqs(s)).toEqual([]);
});
