/** The rules as pure functions: facts in, conditions out. */
import { describe, expect, it } from 'vitest';
import type { Quantities } from '@pledgewatch/common';
import { RULES } from '../src/rules/index.ts';
import { ruleConfig } from '../src/rules/config.ts';
import { band } from '../src/rules/quantity-loss.ts';
import type { PledgeFacts } from '../src/rules/types.ts';
import { pledgeFixture } from './harness.ts';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const config = ruleConfig({});
const q = (over: Partial<Quantities>): Quantities => ({ pledged: 100, present: 100, missing: 0, relocated: 0, damaged: 0, unknown: 0, ...over });

function facts(over: Partial<PledgeFacts> = {}): PledgeFacts {
  return {
    pledge: pledgeFixture(),
    now: NOW,
    config,
    released: { epcs: new Set(), quantity: 0 },
    quantities: q({}),
    items: () => [],
    scales: [],
    environment: [],
    sensors: [],
    alarms: [],
    cameras: [],
    trackers: [],
    gateways: [],
    readers: [],
    valuation: null,
    ...over,
  };
}

describe('rule settings', () => {
  it('fills in defaults and names every wrong key', () => {
    expect(config.quantityLoss.confirmationDelayMs).toBe(120_000);
    expect(config.lifecycle).toMatchObject({ holdMs: 300_000, maxHoldMs: 3_600_000 });
    expect(() => ruleConfig({ holdS: -1, shockThresholdG: 0, bogus: 1 })).toThrow(/\/holdS.*\/shockThresholdG|\/shockThresholdG.*\/holdS/);
    expect(() => ruleConfig({ bogus: 1 })).toThrow(/bogus/);
    expect(Object.isFrozen(config.quantityLoss.bands)).toBe(true);
  });
});

describe('QUANTITY_LOSS', () => {
  it('picks the last severity band reached', () => {
    expect(band(config.quantityLoss.bands, 0.03)).toBe('warning');
    expect(band(config.quantityLoss.bands, 0.1)).toBe('critical');
    expect(band([{ minShare: 0.05, severity: 'info' }], 0.01)).toBe('info');
  });

  it('counts unknown goods as accounted for, not missing', () => {
    expect(RULES.QUANTITY_LOSS(facts({ quantities: q({ present: 10, unknown: 90 }) }))).toEqual([]);
    expect(RULES.QUANTITY_LOSS(facts({ quantities: q({ present: 97, missing: 3 }) }))).toHaveLength(1);
    expect(RULES.QUANTITY_LOSS(facts({ quantities: q({ present: 98, missing: 2 }) }))).toEqual([]); // at the tolerance, not below it
  });

  it('takes a pledge’s own confirmation delay', () => {
    const [c] = RULES.QUANTITY_LOSS(facts({ pledge: pledgeFixture({ rules: { confirmationDelayS: 15 } }), quantities: q({ present: 50, missing: 50 }) }));
    expect(c?.confirmMs).toBe(15_000);
  });

  it('judges a bulk pledge only with a reading from every scale', () => {
    const pledge = pledgeFixture({ items: [], quantity: 100, scales: [{ sensorId: 's1', expectedKg: 50_000 }, { sensorId: 's2', expectedKg: 50_000 }] });
    const reading = (sensorId: string, value: number) => ({ sensorId, kind: 'weight' as const, siteId: 'site-1', zone: 'A1', value, unit: 'kg', at: 'x', receivedAt: NOW });
    const scales = [
      { sensorId: 's1', expectedKg: 50_000, reading: reading('s1', 10_000) },
      { sensorId: 's2', expectedKg: 50_000, reading: null },
    ];
    expect(RULES.QUANTITY_LOSS(facts({ pledge, quantities: q({ present: 0, unknown: 100 }), scales }))).toEqual([]);
    const both = [scales[0], { sensorId: 's2', expectedKg: 50_000, reading: reading('s2', 50_000) }] as PledgeFacts['scales'];
    expect(RULES.QUANTITY_LOSS(facts({ pledge, quantities: q({ present: 0, unknown: 100 }), scales: both }))).toMatchObject([{ severity: 'critical', summary: 'scales show about 40 % less than expected' }]);
  });
});

describe('MONITORING_GAP', () => {
  const gateway = { gatewayId: 'gw-1', online: true, lastStatusAt: NOW - 10_000, offlineSince: null, heartbeatMs: 30_000 };
  const reader = { gatewayId: 'gw-1', readerId: 'r1', connected: false, since: '2026-03-01T11:59:00.000Z', lastReadAt: null, quantity: 40 };

  it('covers the readers of an offline gateway with the gateway’s own gap, not one per reader', () => {
    const offline = { ...gateway, online: false, offlineSince: NOW - 5_000 };
    expect(RULES.MONITORING_GAP(facts({ gateways: [offline], readers: [reader] })).map((c) => c.subject)).toEqual(['gateway:gw-1']);
    expect(RULES.MONITORING_GAP(facts({ gateways: [gateway], readers: [reader] })).map((c) => c.subject)).toEqual(['reader:gw-1/r1']);
  });

  it('measures silence against the gateway’s cadence', () => {
    const silent = (ago: number, heartbeatMs: number) => RULES.MONITORING_GAP(facts({ gateways: [{ ...gateway, lastStatusAt: NOW - ago, heartbeatMs }] }));
    expect(silent(89_000, 30_000)).toEqual([]);
    expect(silent(91_000, 30_000)).toHaveLength(1);
    expect(silent(31_000, 10_000)).toHaveLength(1);
  });

  it('ignores a reader that holds none of the pledge’s goods', () => {
    expect(RULES.MONITORING_GAP(facts({ gateways: [gateway], readers: [{ ...reader, quantity: 0 }] }))).toEqual([]);
  });
});
