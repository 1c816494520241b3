export { startPriceFeed, type FeedCommodity, type PriceFeed, type PriceFeedOptions } from './price-feed.ts';
export { createWarehouse, demoEpcs, READER_ID, type Warehouse, type WarehouseOptions } from './warehouse.ts';
export {
  DEMO,
  DEMO_COMMODITIES,
  DEMO_PLEDGES,
  DEMO_SCENARIO,
  DEMO_ZONES,
  runScenario,
  type DemoWorld,
  type ScenarioStep,
} from './demo-world.ts';
export { startLlrpEmulator, type LlrpEmulator, type LlrpEmulatorOptions, type LlrpEmulatorStats } from './llrp-emulator.ts';
