/** Scenarios for MONITORING_GAP, flapping and concurrent delivery. */
import { FakeClock, topics } from '@pledgewatch/common';
import { waitFor } from '@pledgewatch/common/testing';
import { openSqliteSeries, openSqliteState } from '@pledgewatch/store';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createIngest, mqttConnection } from '../src/index.ts';
import { addGateway, arrived, batch, startHarness, type Harness } from './harness.ts';
import { arrivals, bigPledge, InProcessConnection, range, startScenario, T0, type Scenario } from './scenario-harness.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('MONITORING_GAP', () => {
  it('opens when a gateway is unplugged (last will through the embedded broker) and resolves after the hold once it is back', async () => {
    // The real broker and MQTT connection; ingest's clock is fake, so the delays take no time.
    const h: Harness = await startHarness();
    const clock = new FakeClock(T0);
    const logger = pino({ level: process.env.PW_TEST_LOG ?? 'silent' });
    const store = openSqliteState({ path: h.dir.file('state.db') });
    const series = openSqliteSeries({ path: h.dir.file('series-2.db') });
    await addGateway(store, 'gw-7', 'site-1', 'pw-gw-7');
    await store.createPledge(bigPledge(4, { createdAt: T0 }));
    const ingest = createIngest({
      store, series, clock, logger, registry: new Registry(),
      rules: { heartbeatIntervalS: 3600 }, // this test sends no heartbeats while the fake clock runs
      connection: mqttConnection({ url: h.broker.url, clientId: 'pw-ingest-fake-clock', ...h.service, topics: [topics.allEvents, topics.allStatus], logger }),
    });
    await h.ingest.stop(); // the harness's own ingest would share the subscription
    await ingest.start();
    try {
      const will = { v: 1, gatewayId: 'gw-7', online: false, at: T0 };
      const connect = () => h.connect('gw-7', 'pw-gw-7', { will: { topic: topics.status('gw-7'), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true } });
      let gw = await connect();
      await gw.publishAsync(topics.status('gw-7'), JSON.stringify({ ...will, online: true }), { qos: 1, retain: true });
      await gw.publishAsync(topics.events('gw-7'), batch('gw-7', 1, [1, 2, 3, 4].map((n) => arrived(n, 'A1', 'r1', T0))), { qos: 1 });
      await waitFor('gateway online', async () => (await store.getGateway('gw-7'))?.online === true);
      gw.stream.destroy(); // unplugged: no DISCONNECT, so the broker publishes the will
      await waitFor('gateway offline', async () => (await store.getGateway('gw-7'))?.online === false);
      const advance = async (ms: number) => {
        for (let t = 0; t < ms; t += 5_000) {
          clock.advance(5_000);
          await ingest.runRules();
        }
      };
      await advance(55_000);
      expect(await store.listActiveAlerts()).toEqual([]); // a reboot's worth of silence is no gap
      await advance(10_000);
      const [gap] = await store.listActiveAlerts();
      expect(gap).toMatchObject({ type: 'MONITORING_GAP', subject: 'gateway:gw-7', severity: 'warning', summary: 'Gateway gw-7 is offline (its last will was published)' });
      expect(gap?.evidence).toEqual([expect.objectContaining({ kind: 'gateway', gatewayId: 'gw-7', reason: 'offline', online: false })]);

      gw = await connect();
      await gw.publishAsync(topics.status('gw-7'), JSON.stringify({ ...will, online: true }), { qos: 1, retain: true });
      await waitFor('gateway back online', async () => (await store.getGateway('gw-7'))?.online === true);
      await advance(295_000);
      expect((await store.listActiveAlerts()).map((a) => a.id)).toEqual([gap?.id]);
      await advance(10_000);
      expect(await store.listActiveAlerts()).toEqual([]);
      expect(await store.getAlert('bank-a', gap?.id ?? '')).toMatchObject({ status: 'resolved', resolvedBy: 'rule' });
      expect((await store.eventsAfter(0, 10)).map((e) => e.type)).toEqual(['alert.opened', 'alert.resolved']);
    } finally {
      await ingest.stop();
      await series.close();
      await store.close();
      await h.close();
    }
  });

  it('opens when a gateway falls silent without a last will, after three heartbeat intervals and the confirmation', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    await s.advance(120_000, 5_000);
    s.plugged.delete('gw-1');
    await s.advance(140_000, 5_000);
    expect(await s.alerts()).toEqual([]);
    await s.advance(15_000, 5_000);
    expect(await s.alerts()).toMatchObject([{ type: 'MONITORING_GAP', subject: 'gateway:gw-1', summary: 'Gateway gw-1 is silent: no status for over 3 heartbeat intervals' }]);
    s.plugged.add('gw-1');
    await s.advance(330_000, 5_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['resolved']);
  });

  it('does not take ingest’s own downtime for a gateway’s silence', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    await s.advance(60_000, 5_000);
    await s.restart(600_000);
    // No heartbeat yet since the restart (a persistent session does not replay the retained status).
    s.plugged.clear();
    await s.advance(85_000, 5_000);
    expect(await s.alerts()).toEqual([]);
  });

  it('opens for an obstructed camera until it reports seeing again', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    const camera = (kind: string) => s?.send([{ type: 'camera', at: s.now(), cameraId: 'cam-2', zone: 'A1', kind, confidence: 0.97 }]);
    await camera('obstruction');
    await s.advance(61_000);
    expect(await s.alerts()).toMatchObject([{ type: 'MONITORING_GAP', subject: 'camera:cam-2', summary: 'Camera cam-2 on zone A1 reports obstruction' }]);
    await s.advance(1_000);
    await camera('motion');
    await s.advance(310_000, 10_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['resolved']);
  });

  it('keeps one alert for a gateway flapping for an hour, and resolves it once it has been stable long enough', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    for (let i = 0; i < 30; i++) {
      await s.unplug();
      await s.advance(70_000, 5_000);
      await s.plugIn();
      await s.advance(50_000, 5_000);
    }
    const alerts = await s.alerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'MONITORING_GAP', status: 'open', occurrences: 30 });
    // Each return doubled the hold, up to its cap (an hour by default).
    await s.advance(3_500_000, 60_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['open']);
    await s.advance(200_000, 60_000);
    expect((await s.alerts()).map((a) => a.status)).toEqual(['resolved']);
    expect((await s.store.eventsAfter(0, 1000)).filter((e) => e.type !== 'alert.updated').map((e) => e.type)).toEqual(['alert.opened', 'alert.resolved']);
  });
});

describe('one alert per condition', () => {
  it('opens one alert when the same batch reaches two ingest instances at the same time', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    const store2 = openSqliteState({ path: s.dir.file('state.db') });
    const series2 = openSqliteSeries({ path: s.dir.file('series.db') });
    const second = new InProcessConnection();
    const ingest2 = createIngest({ store: store2, series: series2, clock: s.clock, connection: second, registry: new Registry(), logger: pino({ level: 'silent' }) });
    await ingest2.start();
    try {
      const flood = JSON.stringify({
        v: 1, gatewayId: 'gw-1', seq: 77, sentAt: s.now(),
        events: [{ type: 'reading', at: s.now(), sensorId: 'wet-1', kind: 'water', zone: 'A1', value: 1, unit: 'wet' }],
      });
      await Promise.all([s.connection.deliver(topics.events('gw-1'), flood), second.deliver(topics.events('gw-1'), flood)]);
      // …and once more to the first, as a broker redelivers after a lost PUBACK.
      await s.connection.deliver(topics.events('gw-1'), flood);
      await s.advance(60_000);
      await ingest2.runRules();
      const alerts = await s.alerts();
      expect(alerts.map((a) => [a.type, a.occurrences])).toEqual([['DAMAGE', 1]]);
      expect((await s.store.eventsAfter(0, 10)).map((e) => e.type)).toEqual(['alert.opened']);
    } finally {
      await ingest2.stop();
      await series2.close();
      await store2.close();
    }
  });

  it('keeps the alert changes of a batch with the batch: a failed commit leaves neither', async () => {
    s = await startScenario({ pledges: [bigPledge(4)] });
    await s.send(arrivals(s, range(1, 4)));
    const failing = s.store.commitBatch.bind(s.store);
    let calls = 0;
    s.store.commitBatch = (b, alerts) => (++calls === 1 ? Promise.reject(new Error('disk full')) : failing(b, alerts));
    const shock = [{ type: 'reading', at: s.now(), sensorId: 'acc-1', kind: 'shock', zone: 'A1', value: 9, unit: 'g' }];
    await s.send(shock, { seq: 5 });
    expect(await s.alerts()).toEqual([]);
    expect(await s.counter('pw_ingest_rejected_total', { reason: 'internal_error' })).toBe(1);
    // Nothing of it was kept, so the same batch coming again (a redelivery) is not a duplicate: now both land.
    await s.send(shock, { seq: 5 });
    expect((await s.alerts()).map((a) => a.type)).toEqual(['DAMAGE']);
  });
});
