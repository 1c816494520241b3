import { FakeClock, type Pledge } from '@pledgewatch/common';
import { openSqliteState, type StateStore } from '@pledgewatch/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveValuation } from '../src/index.ts';
import { toPledge } from '../src/domain/register-pledge.ts';
import { addGateway, copperPrice, EPC, registration, seedState, T0 } from './harness.ts';

describe('liveValuation', () => {
  let store: StateStore;
  let pledge: Pledge;
  const clock = new FakeClock(T0);

  beforeEach(async () => {
    store = openSqliteState({ path: ':memory:' });
    await addGateway(store, 'gw-1', 'wh-shanghai-1');
    pledge = toPledge('bank-a', registration(), clock.now());
    await store.createPledge(pledge);
    await store.putPrice(copperPrice(8000, T0));
    const seenBy = (readerId: string) => ({ gatewayId: 'gw-1', siteId: 'wh-shanghai-1', zone: 'A1', readerId, present: true, lastSeenAt: T0, updatedAt: T0 });
    await seedState(
      store,
      [{ epc: EPC(1), ...seenBy('r1') }, { epc: EPC(2), ...seenBy('r1') }, { epc: EPC(3), ...seenBy('r2') }, { epc: EPC(4), ...seenBy('r2') }],
      [
        { gatewayId: 'gw-1', readerId: 'r1', connected: true, at: T0 },
        { gatewayId: 'gw-1', readerId: 'r2', connected: false, at: T0 },
      ],
    );
  });
  afterEach(async () => store.close());

  it('counts the goods of a disconnected reader as unknown and values the rest', async () => {
    const v = await liveValuation(store, pledge, clock.now());
    expect(v.quantity).toEqual({ pledged: 10, present: 5, missing: 0, relocated: 0, damaged: 0, unknown: 5 });
    expect(v).toMatchObject({ marketValue: 40_000, eligibleValue: 34_000, ltv: 0.588235, status: 'ok' });
  });

  it('keeps the previous status within the hysteresis band, as ingest recorded it', async () => {
    // Eligible value is 34000 (5 t present); a loan of 34000 × 0.645 puts the LTV 0.005 under warnLtv,
    // inside the 0.01 band: a pledge already at warning stays there, a fresh one is ok.
    const near = { ...pledge, loan: { ...pledge.loan, outstanding: 34_000 * 0.645 } };
    expect((await liveValuation(store, near, clock.now())).status).toBe('ok');
    await store.setPledgeStatus(pledge.id, 'warning');
    expect((await liveValuation(store, near, clock.now())).status).toBe('warning');
  });

  it('takes reader health loaded once for many pledges, and the maximum price age', async () => {
    const allUp = () => true;
    const v = await liveValuation(store, pledge, clock.now() + 3_600_000, { readerIsUp: allUp, maxPriceAgeMs: 1_000 });
    expect(v.quantity.present).toBe(10);
    expect(v.price?.stale).toBe(true);
    expect(v.eligibleValue).toBe(0);
  });
});
