/**
 * Scenarios for valuation: LTV_WARNING / MARGIN_CALL / LIQUIDATION following the pledge's status as
 * prices, FX rates, loans and quantities move, with hysteresis; PRICE_STALE; pledge.status_changed.
 * The pledge: 10 items of 1 t, 51,000 USD owed, 15 % haircut, limits 65 / 75 / 85 %, so at a price P
 * per t with everything present the LTV is 6,000 / P.
 */
import type { Alert, PledgeStatusChanged, PriceRecord } from '@pledgewatch/common';
import { waitFor } from '@pledgewatch/common/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { epc } from './harness.ts';
import { arrivals, bigPledge, departures, publishPrice, range, startScenario, T0, type Scenario } from './scenario-harness.ts';

let s: Scenario;
afterEach(async () => s.close());

const copper = (over = {}) => bigPledge(10, { loan: { outstanding: 51_000, currency: 'USD' }, ...over });

/** The outbox as a lender's endpoint would read it, one line per event. */
async function outbox(): Promise<string[]> {
  return (await s.store.eventsAfter(0, 1000)).map((e) => {
    if (e.type !== 'pledge.status_changed') return `${e.type} ${(e.data as Alert).type}`;
    const d = e.data as PledgeStatusChanged;
    return `status ${d.previousStatus}→${d.status}`;
  });
}

const statusEvents = async (): Promise<PledgeStatusChanged[]> =>
  (await s.store.eventsAfter(0, 1000)).filter((e) => e.type === 'pledge.status_changed').map((e) => e.data as PledgeStatusChanged);

const open = async () => (await s.alerts({ status: 'open' })).map((a) => [a.type, a.severity]);

/** A price as the API records it: only in the store, where ingest finds it when it polls. */
async function storePrice(price: number, over: Partial<PriceRecord> = {}): Promise<void> {
  await s.store.putPrice({ commodity: 'copper-cathode', price, currency: 'USD', unit: 't', at: s.now(), source: 'LME 3M', ...over });
  await s.ingest.refreshPledges();
}

/** The next price, one second later (a price at the time of the last one is refused). */
async function nextPrice(price: number): Promise<void> {
  await s.advance(1_000);
  await publishPrice(s, price);
}

describe('LTV alerts', () => {
  it('steps LTV_WARNING → MARGIN_CALL → LIQUIDATION as the price falls, one open at a time, each step a status change', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 10_000); // LTV 0.6
    expect(await s.alerts()).toEqual([]);
    await nextPrice(9_000); // 0.666667
    const [warning] = await s.alerts({ status: 'open' });
    expect(warning).toMatchObject({ type: 'LTV_WARNING', subject: 'ltv', severity: 'warning', summary: 'LTV at or above the warning limit of 65 %' });
    expect(warning?.evidence).toEqual([
      expect.objectContaining({
        kind: 'valuation',
        ltv: 0.666667,
        limits: { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 },
        status: 'warning',
        marketValue: 90_000,
        eligibleValue: 76_500,
        outstanding: 51_000,
        headroom: 6_375,
        price: expect.objectContaining({ value: 9_000, currency: 'USD', stale: false }) as unknown,
        quantity: expect.objectContaining({ pledged: 10, present: 10 }) as unknown,
      }),
    ]);
    await nextPrice(7_500); // 0.8
    expect(await open()).toEqual([['MARGIN_CALL', 'critical']]);
    await nextPrice(7_000); // 0.857143
    expect(await open()).toEqual([['LIQUIDATION', 'critical']]);
    // The lower alert resolves before the higher one opens, then the status change: never two open at once.
    expect(await outbox()).toEqual([
      'alert.opened LTV_WARNING',
      'status ok→warning',
      'alert.resolved LTV_WARNING',
      'alert.opened MARGIN_CALL',
      'status warning→margin_call',
      'alert.resolved MARGIN_CALL',
      'alert.opened LIQUIDATION',
      'status margin_call→liquidation',
    ]);
    const [first] = await statusEvents();
    expect(first).toMatchObject({
      pledgeId: 'PL-1',
      previousStatus: 'ok',
      status: 'warning',
      valuation: { pledgeId: 'PL-1', ltv: 0.666667, status: 'warning', marketValue: 90_000, eligibleValue: 76_500, outstanding: 51_000, headroom: 6_375, currency: 'USD' },
    });
    expect(await s.store.getPledgeStatus('PL-1')).toBe('liquidation');
    expect(await s.counter('pw_pledge_status_changes_total', { status: 'margin_call' })).toBe(1);
    expect(await s.counter('pw_alerts_opened_total', { type: 'LIQUIDATION' })).toBe(1);
  });

  it('steps down only 1 LTV point below a limit: just under it the alert stays', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 7_500); // 0.8
    const [call] = await s.alerts({ status: 'open' });
    expect(call?.type).toBe('MARGIN_CALL');
    await nextPrice(8_050); // 0.745342: under 75 %, not 1 point under
    expect((await s.alerts({ status: 'open' })).map((a) => a.id)).toEqual([call?.id]);
    await nextPrice(8_120); // 0.738916
    expect(await open()).toEqual([['LTV_WARNING', 'warning']]);
    expect(await s.store.getAlert('bank-a', call?.id ?? '')).toMatchObject({ status: 'resolved', resolvedBy: 'rule' });
    await nextPrice(9_300); // 0.645161: under 65 %, not 1 point under
    expect(await open()).toEqual([['LTV_WARNING', 'warning']]);
    await nextPrice(9_500); // 0.631579
    expect(await open()).toEqual([]);
    expect((await statusEvents()).map((e) => e.status)).toEqual(['margin_call', 'warning', 'ok']);
  });

  it('raises the LTV when the loan is drawn down through the store, and lowers it on repayment', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 10_000);
    await s.store.updatePledgeLoan('bank-a', 'PL-1', 64_000, s.now()); // 0.752941
    await s.ingest.refreshPledges();
    expect(await open()).toEqual([['MARGIN_CALL', 'critical']]);
    expect((await statusEvents()).at(-1)).toMatchObject({ previousStatus: 'ok', status: 'margin_call', valuation: { outstanding: 64_000, ltv: 0.752941 } });
    await s.advance(1_000);
    await s.store.updatePledgeLoan('bank-a', 'PL-1', 40_000, s.now());
    await s.ingest.refreshPledges();
    expect(await open()).toEqual([]);
    expect(await outbox()).toEqual(['alert.opened MARGIN_CALL', 'status ok→margin_call', 'alert.resolved MARGIN_CALL', 'status margin_call→ok']);
  });

  it('raises the LTV when goods are lost, in the transaction of the batch that shows it', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 10_000);
    await s.send(departures(s, [3, 7])); // 8 t present: 0.75
    expect(await open()).toEqual([['MARGIN_CALL', 'critical']]);
    await s.advance(121_000, 10_000);
    expect((await open()).sort()).toEqual([['MARGIN_CALL', 'critical'], ['QUANTITY_LOSS', 'critical']]);
    await s.send(arrivals(s, [3, 7]));
    expect((await open()).sort()).toEqual([['QUANTITY_LOSS', 'critical']]);
  });

  it('values in the loan currency with the FX rate posted through the store, and revalues when it moves', async () => {
    s = await startScenario({ pledges: [copper({ loan: { outstanding: 51_000, currency: 'EUR' } })] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 10_000);
    // Without a rate the LTV cannot be measured: no alert, no status.
    await s.advance(60_000);
    expect(await s.alerts()).toEqual([]);
    expect(await outbox()).toEqual([]);
    await s.store.putFxRate({ base: 'USD', quote: 'EUR', rate: 1, at: s.now(), source: 'ECB' });
    await s.ingest.refreshPledges();
    expect(await s.alerts()).toEqual([]);
    await s.advance(1_000);
    await s.store.putFxRate({ base: 'USD', quote: 'EUR', rate: 0.8, at: s.now(), source: 'ECB' }); // 8,000 EUR/t: 0.75
    await s.ingest.refreshPledges();
    const [call] = await s.alerts({ status: 'open' });
    expect(call).toMatchObject({ type: 'MARGIN_CALL' });
    expect(call?.evidence[0]).toMatchObject({ kind: 'valuation', currency: 'EUR', fxRate: 0.8, marketValue: 80_000, ltv: 0.75 });
  });

  it('waits the monitoring-gap delay before a worse status that rests only on goods out of sight', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 10_000);
    const reader = (connected: boolean) => s.send([{ type: 'reader.status', at: s.now(), readerId: 'r1', connected }]);
    await reader(false);
    await s.advance(30_000);
    await reader(true);
    await s.advance(120_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    expect(await outbox()).toEqual([]);
    await reader(false);
    await s.advance(59_000);
    expect(await s.alerts()).toEqual([]);
    await s.advance(2_000);
    expect((await open()).sort()).toEqual([['LIQUIDATION', 'critical'], ['MONITORING_GAP', 'warning']]);
    expect((await s.alerts({ type: 'LIQUIDATION' }))[0]?.summary).toBe('nothing eligible while 51000 USD is owed (liquidation limit 85 %)');
    await reader(true);
    expect(await s.alerts({ type: 'LIQUIDATION', status: 'open' })).toEqual([]);
    expect((await statusEvents()).map((e) => [e.status, e.valuation.ltv])).toEqual([['liquidation', null], ['ok', 0.6]]);
  });

  it('survives a restart: LTV alerts and the status are neither lost nor duplicated', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await publishPrice(s, 7_500);
    const [call] = await s.alerts({ status: 'open' });
    const before = await outbox();
    await s.restart(30_000);
    await s.advance(120_000, 10_000);
    expect((await s.alerts({ status: 'open' })).map((a) => a.id)).toEqual([call?.id]);
    expect(await outbox()).toEqual(before);
    // The price recovers while ingest is down: loaded from the store, the alert resolves at the first look.
    await s.store.putPrice({ commodity: 'copper-cathode', price: 10_000, currency: 'USD', unit: 't', at: s.now(), source: 'LME 3M' });
    await s.restart(30_000);
    await s.advance(1_000);
    expect(await s.store.getAlert('bank-a', call?.id ?? '')).toMatchObject({ status: 'resolved' });
    expect((await outbox()).slice(before.length)).toEqual(['alert.resolved MARGIN_CALL', 'status margin_call→ok']);
  });

  it('writes a pledge_valuation point per change at checkpoint resolution, without ltv while it is unbounded', async () => {
    s = await startScenario({ pledges: [copper()] });
    await s.send(arrivals(s, range(1, 10)));
    await s.advance(2_000);
    await publishPrice(s, 10_000);
    await s.advance(2_000, 100);
    await publishPrice(s, 9_000);
    await s.advance(2_000);
    await publishPrice(s, 9_000); // a newer price of the same value: the same valuation, no point
    await s.advance(5_000);
    const series = (field: string) => s.series.query({ measurement: 'pledge_valuation', field, tags: { pledgeId: 'PL-1' }, from: Date.parse(T0), to: Date.parse(s.now()) + 1, stepMs: 1 });
    const market = await waitFor('valuation points', async () => {
      const points = await series('marketValue');
      return points.length === 3 && points;
    });
    expect(market.map((p) => p.value)).toEqual([0, 100_000, 90_000]);
    expect((await series('ltv')).map((p) => p.value)).toEqual([0.6, 0.666667]);
    expect((await series('outstanding')).map((p) => p.value)).toEqual([51_000, 51_000, 51_000]);
  });
});

describe('PRICE_STALE', () => {
  // 50,000 USD owed on 10 t of steel at 10,000 USD/t: LTV 0.588235.
  const steel = () => bigPledge(10, { id: 'PL-2', commodity: 'steel-coil', items: range(11, 20).map((n) => ({ epc: epc(n), quantity: 1 })) });

  it('opens when a price outlives its commodity’s maximum age, keeps the status, and resolves on a fresh price', async () => {
    s = await startScenario({ pledges: [copper(), steel()], rules: { maxPriceAgeByCommodityS: { 'copper-cathode': 3_600 } } });
    await s.send(arrivals(s, range(1, 20)));
    const pricedAt = s.now();
    await storePrice(9_000);
    await storePrice(10_000, { commodity: 'steel-coil' });
    const warningId = (await s.alerts())[0]?.id;
    expect(await open()).toEqual([['LTV_WARNING', 'warning']]);
    await s.advance(3_600_000, 60_000);
    expect(await s.alerts({ type: 'PRICE_STALE' })).toEqual([]);
    await s.advance(1_000);
    const stale = await s.alerts({ type: 'PRICE_STALE' });
    expect(stale).toMatchObject([{ pledgeId: 'PL-1', subject: 'price', severity: 'warning', status: 'open', summary: `copper-cathode price of ${pricedAt} is older than its maximum age (1 h)` }]);
    expect(stale[0]?.evidence[0]).toMatchObject({ kind: 'price', commodity: 'copper-cathode', value: 9_000, pricedAt, ageS: 3_601, maxAgeS: 3_600 });
    // Nothing is eligible at a stale price, but an LTV that cannot be measured neither raises nor clears one.
    expect((await s.alerts({ status: 'open' })).map((a) => [a.type, a.id]).sort()).toEqual([['LTV_WARNING', warningId], ['PRICE_STALE', stale[0]?.id]]);
    expect(await s.store.getPledgeStatus('PL-1')).toBe('warning');
    await publishPrice(s, 10_000);
    expect(await s.alerts({ status: 'open' })).toEqual([]);
    expect((await s.store.getAlert('bank-a', stale[0]?.id ?? ''))?.status).toBe('resolved');
    // Steel keeps the default 24 h (copper's fresh price is stale again an hour after it was set).
    await s.advance(86_390_000 - 3_601_000, 60_000);
    expect((await s.alerts({ type: 'PRICE_STALE', status: 'open' })).map((a) => a.pledgeId)).toEqual(['PL-1']);
    await s.advance(20_000);
    expect((await s.alerts({ type: 'PRICE_STALE', status: 'open' })).map((a) => a.pledgeId).sort()).toEqual(['PL-1', 'PL-2']);
  });
});
