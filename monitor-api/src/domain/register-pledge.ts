/** Registering a pledge: terms that a schema cannot check, a monitored site, then the store. */
import {
  checkPledgeTerms,
  DEFAULT_QUANTITY_TOLERANCE,
  isoTime,
  normaliseEpc,
  PwError,
  type Pledge,
  type PledgeRegistrationBody,
} from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';

export async function registerPledge(
  store: Pick<StateStore, 'listSites' | 'createPledge'>,
  tenant: string,
  body: PledgeRegistrationBody,
  now: number,
): Promise<Pledge> {
  const termErrors = checkPledgeTerms(body);
  if (termErrors.length > 0) throw new PwError('VALIDATION', 'The pledge terms are inconsistent', termErrors);
  // A pledge at a site without a gateway could never be observed: it would sit at "unknown" forever.
  const sites = await store.listSites();
  if (!sites.includes(body.siteId)) {
    throw new PwError('UNKNOWN_SITE', `No gateway is registered at site ${body.siteId}`, [
      { path: '/siteId', reason: 'no gateway is registered at this site' },
    ]);
  }
  const pledge = toPledge(tenant, body, now);
  await store.createPledge(pledge);
  return pledge;
}

export function toPledge(tenant: string, body: PledgeRegistrationBody, now: number): Pledge {
  return {
    ...body,
    items: (body.items ?? []).map((item) => ({ epc: normaliseEpc(item.epc), quantity: item.quantity })),
    scales: body.scales ?? [],
    quantityTolerance: body.quantityTolerance ?? DEFAULT_QUANTITY_TOLERANCE,
    tenant,
    createdAt: isoTime(now),
  };
}
