import { PwError, type Pledge } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';

/** The caller's pledge, or 404 — also for another tenant's pledge, whose existence is not revealed. */
export async function ownPledge(store: Pick<StateStore, 'getPledge'>, tenant: string, id: string): Promise<Pledge> {
  const pledge = await store.getPledge(tenant, id);
  if (pledge === null) throw new PwError('NOT_FOUND', `No pledge ${id}`);
  return pledge;
}
