/**
 * The demo warehouse: one site with three zones, three pledges (copper in t, steel in t, cotton
 * priced per lb) and a scenario that moves their value within a minute: a theft, a price drop,
 * a reader outage and a relocation.
 */
import type { PledgeRegistrationBody } from '@pledgewatch/common';
import type { FeedCommodity, PriceFeed } from './price-feed.ts';
import { demoEpcs, type Warehouse } from './warehouse.ts';

export const DEMO = {
  tenant: 'demo-bank',
  siteId: 'wh-demo-1',
  gatewayId: 'gw-demo-1',
  feedId: 'feed-demo',
} as const;

const COPPER = demoEpcs(1, 40);
const STEEL = demoEpcs(2, 30);
const COTTON = demoEpcs(3, 100);

export const DEMO_ZONES: Record<string, string[]> = { A1: COPPER, A2: STEEL, B1: COTTON, C9: [] };

export const DEMO_COMMODITIES: FeedCommodity[] = [
  { commodity: 'copper-cathode', currency: 'USD', unit: 't', price: 9_000, volatility: 0.002 },
  { commodity: 'steel-coil', currency: 'USD', unit: 't', price: 620, volatility: 0.002 },
  { commodity: 'cotton', currency: 'USD', unit: 'lb', price: 0.78, volatility: 0.003 },
];

const limits = { warnLtv: 0.65, marginCallLtv: 0.75, liquidationLtv: 0.85 };
/** A short confirmation so the demo's theft becomes an alert within the minute (production default: 120 s). */
const rules = { confirmationDelayS: 5 };

export const DEMO_PLEDGES: PledgeRegistrationBody[] = [
  {
    id: 'PL-DEMO-COPPER', borrower: 'Acme Metals', siteId: DEMO.siteId, zones: ['A1'], commodity: 'copper-cathode', unit: 't',
    items: COPPER.map((epc) => ({ epc, quantity: 2.5 })), loan: { outstanding: 470_000, currency: 'USD' }, haircut: 0.15, limits, rules,
  },
  {
    id: 'PL-DEMO-STEEL', borrower: 'Northern Steel Trading', siteId: DEMO.siteId, zones: ['A2'], commodity: 'steel-coil', unit: 't',
    items: STEEL.map((epc) => ({ epc, quantity: 20 })), loan: { outstanding: 180_000, currency: 'USD' }, haircut: 0.2, limits, rules,
  },
  {
    id: 'PL-DEMO-COTTON', borrower: 'Delta Fibres', siteId: DEMO.siteId, zones: ['B1'], commodity: 'cotton', unit: 't',
    items: COTTON.map((epc) => ({ epc, quantity: 0.227 })), loan: { outstanding: 18_000, currency: 'USD' }, haircut: 0.25, limits, rules,
  },
];

export interface DemoWorld {
  warehouse: Warehouse;
  feed: PriceFeed;
}

export interface ScenarioStep {
  atS: number;
  say: string;
  run(world: DemoWorld): Promise<void> | void;
}

export const DEMO_SCENARIO: ScenarioStep[] = [
  {
    atS: 12,
    say: '6 copper coils leave zone A1 without a release (theft): present quantity falls after the absence timeout',
    run: ({ warehouse }) => warehouse.reader.removeTags(COPPER.slice(0, 6)),
  },
  {
    atS: 25,
    say: 'copper price drops 7%: LTV of the copper pledge rises',
    run: ({ feed }) => feed.shock('copper-cathode', 0.93),
  },
  {
    atS: 35,
    say: 'the RFID reader goes down for 15 s: its tags become unknown (a monitoring gap, not a loss)',
    run: ({ warehouse }) => warehouse.reader.setConnected(false, 'demo: cable pulled'),
  },
  {
    atS: 50,
    say: 'the reader is back: quantities recover',
    run: ({ warehouse }) => warehouse.reader.setConnected(true),
  },
  {
    atS: 55,
    say: '5 steel coils are moved to zone C9, outside the pledge (relocation)',
    run: ({ warehouse }) => warehouse.reader.moveTags(STEEL.slice(0, 5), warehouse.antennaOf('C9')),
  },
];

/** Runs scenario steps at their times (from now); returns a function that cancels what is left. */
export function runScenario(
  world: DemoWorld,
  steps: readonly ScenarioStep[],
  onStep: (step: ScenarioStep) => void,
  onError: (step: ScenarioStep, err: unknown) => void,
): () => void {
  const timers = steps.map((step) =>
    setTimeout(() => {
      onStep(step);
      Promise.resolve(step.run(world)).catch((err: unknown) => onError(step, err));
    }, step.atS * 1000),
  );
  return () => timers.forEach(clearTimeout);
}
