/** Scenarios for QUANTITY_LOSS: theft, scales, releases, blind readers, restarts. */
import { afterEach, describe, expect, it } from 'vitest';
import { epc } from './harness.ts';
import { arrivals, bigPledge, departures, range, startScenario, type Scenario } from './scenario-harness.ts';

let s: Scenario;
afterEach(async () => s.close());

describe('QUANTITY_LOSS', () => {
  it('opens one alert after the confirmation delay when 3 % of a pledge is stolen', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.advance(60_000);
    await s.send(departures(s, [7, 42, 99]));
    await s.advance(119_000);
    expect(await s.alerts()).toEqual([]);
    await s.advance(2_000);
    const [loss, ...others] = await s.alerts();
    expect(others).toEqual([]);
    expect(loss).toMatchObject({ type: 'QUANTITY_LOSS', subject: 'quantity', severity: 'warning', status: 'open', occurrences: 1 });
    expect(loss?.summary).toBe('3 t of 100 t missing (3 %)');
    expect(loss?.evidence).toContainEqual(expect.objectContaining({ kind: 'quantities', pledged: 100, present: 97, missing: 3, threshold: 98 }));
    const missing = loss?.evidence.find((e) => e.kind === 'missing-tags');
    expect(missing).toMatchObject({ total: 3 });
    expect(missing?.kind === 'missing-tags' && missing.tags.map((t) => t.epc)).toEqual([epc(7), epc(42), epc(99)]);
    // It stays one alert while the goods stay gone, and its event is in the outbox once.
    await s.advance(600_000, 10_000);
    expect(await s.alerts()).toHaveLength(1);
    expect((await s.store.eventsAfter(0, 100)).map((e) => e.type)).toEqual(['alert.opened']);
    expect(await s.counter('pw_alerts_opened_total', { type: 'QUANTITY_LOSS' })).toBe(1);
  });

  it('does not alert within the tolerance, and escalates as more goes missing', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.send(departures(s, [1, 2]));
    await s.advance(600_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    await s.send(departures(s, range(3, 15)));
    await s.advance(130_000, 10_000);
    const [loss] = await s.alerts();
    expect(loss).toMatchObject({ severity: 'critical', summary: '15 t of 100 t missing (15 %)' });
  });

  it('takes a short scale as corroboration: in the evidence, one severity up', async () => {
    s = await startScenario({ pledges: [bigPledge(100, { scales: [{ sensorId: 'scale-a1', expectedKg: 100_000 }] })] });
    await s.send(arrivals(s, range(1, 100)));
    const weighedAt = s.now();
    await s.send([...departures(s, [1, 2, 3]), { type: 'reading', at: weighedAt, sensorId: 'scale-a1', kind: 'weight', zone: 'A1', value: 96_900, unit: 'kg' }]);
    await s.advance(121_000);
    const [loss] = await s.alerts();
    expect(loss).toMatchObject({ severity: 'critical', summary: '3 t of 100 t missing (3 %), corroborated by scale' });
    expect(loss?.evidence).toContainEqual({ kind: 'scale', at: weighedAt, sensorId: 'scale-a1', expectedKg: 100_000, measuredKg: 96_900, thresholdKg: 98_000 });
  });

  it('judges a bulk pledge by its scales alone', async () => {
    const bulk = bigPledge(0, { id: 'PL-GRAIN', items: [], quantity: 500, scales: [{ sensorId: 'silo-1', expectedKg: 500_000 }] });
    s = await startScenario({ pledges: [bulk] });
    const weigh = (kg: number) => s.send([{ type: 'reading', at: s.now(), sensorId: 'silo-1', kind: 'weight', zone: 'A1', value: kg, unit: 'kg' }]);
    await weigh(495_000);
    await s.advance(300_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    await weigh(440_000);
    await s.advance(130_000, 10_000);
    expect(await s.alerts()).toMatchObject([{ pledgeId: 'PL-GRAIN', type: 'QUANTITY_LOSS', summary: 'scales show about 12 % less than expected' }]);
  });

  it('raises MONITORING_GAP and not QUANTITY_LOSS while a reader is down and its tags go unseen', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.advance(30_000);
    await s.send([{ type: 'reader.status', at: s.now(), readerId: 'r1', connected: false, error: 'antenna cable cut' }]);
    await s.advance(3_600_000, 10_000);
    const alerts = await s.alerts();
    expect(alerts.map((a) => [a.type, a.subject])).toEqual([['MONITORING_GAP', 'reader:gw-1/r1']]);
    expect(alerts[0]?.evidence).toContainEqual(expect.objectContaining({ kind: 'reader', reason: 'disconnected', quantity: 100 }));
    // An hour blind is critical.
    expect(alerts[0]?.severity).toBe('critical');
    // Back up: the gap resolves after the hold; nothing was lost, so nothing else opens.
    await s.send([{ type: 'reader.status', at: s.now(), readerId: 'r1', connected: true }]);
    await s.advance(299_000, 10_000);
    expect((await s.alerts({ status: 'open' })).length).toBe(1);
    await s.advance(11_000);
    expect(await s.alerts({ status: 'open' })).toEqual([]);
    expect(await s.counter('pw_alerts_resolved_total', { type: 'MONITORING_GAP' })).toBe(1);
  });

  it('lets goods under a release leave without QUANTITY_LOSS or RELOCATION', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.store.createRelease({ id: 'REL-1', tenant: 'bank-a', pledgeId: 'PL-1', epcs: range(1, 10).map(epc), reason: 'sold to Beta Trading', createdAt: s.now() });
    await s.ingest.refreshPledges();
    await s.send(range(1, 5).map((n) => ({ type: 'tag.moved', at: s.now(), epc: epc(n), fromZone: 'A1', zone: 'DOCK', readerId: 'r1' })));
    await s.advance(60_000);
    await s.send(departures(s, range(1, 5), 'DOCK'));
    await s.send(departures(s, range(6, 10)));
    await s.advance(1_800_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    // The released goods are out of the pledge; one more unreleased item gone is not (1.1 % of 90).
    await s.send(departures(s, [11]));
    await s.advance(300_000, 10_000);
    expect(await s.alerts()).toEqual([]);
    await s.send(departures(s, [12]));
    await s.advance(130_000, 10_000);
    expect(await s.alerts()).toMatchObject([{ type: 'QUANTITY_LOSS', summary: '2 t of 90 t missing (2.2 %)' }]);
  });

  it('survives a restart: the open alert is neither lost nor duplicated, and resolves once the goods are back', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.send(departures(s, range(1, 5)));
    await s.advance(130_000, 10_000);
    const [before] = await s.alerts();
    expect(before?.status).toBe('open');
    await s.restart();
    await s.advance(600_000, 10_000);
    expect((await s.alerts()).map((a) => [a.id, a.status])).toEqual([[before?.id, 'open']]);
    await s.send(arrivals(s, range(1, 5)));
    await s.advance(310_000, 10_000);
    expect((await s.alerts()).map((a) => [a.id, a.status, a.resolvedBy])).toEqual([[before?.id, 'resolved', 'rule']]);
  });

  it('opens a new alert after a person resolved one whose condition still holds', async () => {
    s = await startScenario({ pledges: [bigPledge(100)] });
    await s.send(arrivals(s, range(1, 100)));
    await s.send(departures(s, range(1, 5)));
    await s.advance(130_000, 10_000);
    const [first] = await s.alerts();
    await s.store.resolveAlert('bank-a', first?.id ?? '', s.now());
    await s.advance(200_000, 10_000);
    const alerts = await s.alerts();
    expect(alerts.map((a) => a.status).sort()).toEqual(['open', 'resolved']);
    expect(alerts.find((a) => a.status === 'open')?.id).not.toBe(first?.id);
  });
});
