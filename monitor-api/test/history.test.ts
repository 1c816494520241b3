import type { Quantities } from '@pledgewatch/common';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { openSqliteSeries, type SeriesStore } from '@pledgewatch/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addGateway, registration, startHarness, T0, type Harness } from './harness.ts';

const PL = 'PL-2026-0001';
const SITE = 'wh-shanghai-1';
const t0 = Date.parse(T0);
const MIN = 60_000;
const at = (ms: number) => new Date(t0 + ms).toISOString();

const quantity = (present: number, missing = 0): Quantities => ({ pledged: present + missing, present, missing, relocated: 0, damaged: 0, unknown: 0 });
const valuation = (marketValue: number, eligibleValue: number, ltv?: number) => ({
  marketValue,
  eligibleValue,
  outstanding: 20_000,
  headroom: Math.round((eligibleValue * 0.75 - 20_000) * 100) / 100,
  ...(ltv === undefined ? {} : { ltv }),
});

describe('GET /v1/pledges/{id}/history', () => {
  let dir: TempDir;
  let series: SeriesStore;
  let h: Harness;
  let key: string;

  /** Points as ingest writes them, straight into the series store the API reads. */
  const record = (ms: number, what: { quantity?: Quantities; valuation?: Record<string, number> }, pledgeId = PL) =>
    series.write([
      ...(what.quantity === undefined ? [] : [{ measurement: 'pledge_quantity', tags: { pledgeId }, fields: { ...what.quantity }, time: t0 + ms }]),
      ...(what.valuation === undefined ? [] : [{ measurement: 'pledge_valuation', tags: { pledgeId }, fields: what.valuation, time: t0 + ms }]),
    ]);
  const history = (query: string, k = key) => h.call('GET', `/v1/pledges/${PL}/history${query}`, { key: k });

  beforeEach(async () => {
    dir = tempDir('pw-api-history-');
    series = openSqliteSeries({ path: dir.file('series.db') });
    h = await startHarness({ series });
    await addGateway(h.store, 'gw-1', SITE);
    key = await h.keyFor('bank-a');
    expect((await h.call('POST', '/v1/pledges', { key, body: registration() })).status).toBe(201);
    h.clock.advance(60 * MIN);
  });
  afterEach(async () => {
    await h.close();
    await series.close();
    dir.remove();
  });

  it('samples quantities and valuation at each step, each time carrying what was last recorded at or before it', async () => {
    await record(10_000, { quantity: quantity(10), valuation: valuation(80_000, 68_000, 0.294118) });
    // Exactly on a sampled time: it counts for that time. One millisecond later: for the next.
    await record(5 * MIN, { quantity: quantity(7.5, 2.5) });
    await record(5 * MIN + 1, { valuation: valuation(60_000, 51_000, 0.392157) });
    await record(12 * MIN, { quantity: quantity(5, 5) });
    const res = await history(`?from=${at(0)}&to=${at(15 * MIN)}&step=5m`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ pledgeId: PL, from: at(0), to: at(15 * MIN), step: 'PT5M', stepSeconds: 300, unit: 't', currency: 'USD' });
    // Nothing was recorded at or before `from`: that time is left out.
    expect(res.json.points).toEqual([
      { at: at(5 * MIN), quantity: quantity(7.5, 2.5), ...valuation(80_000, 68_000, 0.294118) },
      { at: at(10 * MIN), quantity: quantity(7.5, 2.5), ...valuation(60_000, 51_000, 0.392157) },
      { at: at(15 * MIN), quantity: quantity(5, 5), ...valuation(60_000, 51_000, 0.392157) },
    ]);
  });

  it('starts from the state recorded before the range; an unbounded LTV is null, an unknown valuation all null', async () => {
    await record(MIN, { quantity: quantity(10) });
    await record(20 * MIN, { valuation: valuation(0, 0) });
    const res = await history(`?from=${at(10 * MIN)}&to=${at(30 * MIN)}&step=PT10M`);
    expect(res.json.points).toEqual([
      { at: at(10 * MIN), quantity: quantity(10), marketValue: null, eligibleValue: null, outstanding: null, headroom: null, ltv: null },
      { at: at(20 * MIN), quantity: quantity(10), ...valuation(0, 0), ltv: null },
      { at: at(30 * MIN), quantity: quantity(10), ...valuation(0, 0), ltv: null },
    ]);
  });

  it('defaults to the last 24 hours by 5 minutes, and never samples after now', async () => {
    await record(10_000, { quantity: quantity(10) });
    const res = await history('');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ from: at(60 * MIN - 24 * 60 * MIN), to: at(60 * MIN), step: 'PT5M', stepSeconds: 300 });
    const times = (res.json.points as { at: string }[]).map((p) => p.at);
    expect(times).toEqual(Array.from({ length: 12 }, (_, i) => at((i + 1) * 5 * MIN)));

    const ahead = await history(`?from=${at(50 * MIN)}&to=${at(120 * MIN)}&step=10m`);
    expect((ahead.json.points as { at: string }[]).map((p) => p.at)).toEqual([at(50 * MIN), at(60 * MIN)]);
  });

  it('keeps pledges apart: another pledge’s points, another tenant’s pledge', async () => {
    await record(MIN, { quantity: quantity(3) }, 'PL-OTHER');
    expect((await history(`?from=${at(0)}&to=${at(10 * MIN)}`)).json.points).toEqual([]);
    const other = await h.keyFor('bank-b');
    const foreign = await history('', other);
    expect(foreign.status).toBe(404);
    expect(foreign.json.code).toBe('NOT_FOUND');
    expect((await h.call('GET', '/v1/pledges/PL-NOPE/history', { key })).status).toBe(404);
    expect((await h.call('GET', `/v1/pledges/${PL}/history`)).status).toBe(401);
  });

  it.each([
    ['from=yesterday', [['/from', 'is not a valid RFC 3339 time']]],
    ['to=2026-02-30T00:00:00Z', [['/to', 'is not a valid RFC 3339 time']]],
    ['from=1969-12-31T23:00:00Z', [['/from', 'is before 1970']]],
    [`from=${at(10 * MIN)}&to=${at(10 * MIN)}`, [['/from', 'must be before to']]],
    [`from=${at(120 * MIN)}`, [['/from', 'must be before to']]],
    ['step=5x', [['/step', 'must be whole seconds']]],
    ['step=P1M', [['/step', 'years and months have no fixed length']]],
    ['step=500ms', [['/step', 'must be whole seconds']]],
    ['step=0', [['/step', 'must be at least 1 s']]],
    ['step=PT', [['/step', 'must be whole seconds']]],
    ['step=1s', [['/step', 'gives 86401 points, more than 2100: use a step of at least PT42S']]],
    ['from=nope&step=nope', [['/from', 'is not a valid'], ['/step', 'must be whole seconds']]],
  ])('refuses %s with 400 naming the parameter', async (query, expected) => {
    const res = await history(`?${query}`);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.json.code).toBe('VALIDATION');
    const errors = res.json.errors as { path: string; reason: string; in: string }[];
    expect(errors.map((e) => e.path)).toEqual(expected.map(([path]) => path));
    errors.forEach((e, i) => {
      expect(e.in).toBe('querystring');
      expect(e.reason).toContain(expected[i]?.[1]);
    });
  });
});
