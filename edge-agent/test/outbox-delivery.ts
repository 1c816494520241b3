/** What a subscriber received, judged as ingest would after its (gatewayId, seq) dedup. */
import type { UplinkBatch } from '@pledgewatch/common';
import { CentralBroker, DurableObserver } from './central-broker.ts';

export interface Delivery {
  /** Distinct seqs received, ascending. */
  seqs: number[];
  /** Seqs whose first copy arrived after a higher seq's first copy. */
  outOfOrder: number[];
  /** Seqs received more than once with different events (a seq reused for another batch). */
  inconsistent: number[];
}

export function checkDelivery(batches: readonly UplinkBatch[]): Delivery {
  const firstCopy = new Map<number, string>();
  const arrival: number[] = [];
  const inconsistent: number[] = [];
  for (const batch of batches) {
    const body = JSON.stringify([batch.gatewayId, batch.events]);
    const seen = firstCopy.get(batch.seq);
    if (seen === undefined) {
      firstCopy.set(batch.seq, body);
      arrival.push(batch.seq);
    } else if (seen !== body) {
      inconsistent.push(batch.seq);
    }
  }
  let highest = 0;
  const outOfOrder: number[] = [];
  for (const seq of arrival) {
    if (seq < highest) outOfOrder.push(seq);
    highest = Math.max(highest, seq);
  }
  return { seqs: [...arrival].sort((a, b) => a - b), outOfOrder, inconsistent };
}

/**
 * A central broker with slow acknowledgements and a durable ingest-like observer of one gateway's
 * batches, both registered for cleanup: what the outbox delivery tests run against.
 */
export async function observedCentral(
  accounts: Record<string, string> & { ingest: string },
  gatewayId: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<{ central: CentralBroker; observer: DurableObserver }> {
  const central = await CentralBroker.create(accounts, 40);
  cleanups.push(() => central.stop());
  const observer = new DurableObserver({ username: 'ingest', password: accounts.ingest, clientId: 'ingest-1', filter: `pw/v1/gw/${gatewayId}/events` });
  cleanups.push(() => observer.close());
  await observer.connect(central.observerUrl);
  return { central, observer };
}
