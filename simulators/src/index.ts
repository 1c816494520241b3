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
export {
  emulatedRead,
  formatLine,
  REGEX_SAMPLE_PATTERN,
  SERIAL_EMULATOR_FORMATS,
  startSerialEmulator,
  type SerialEmulator,
  type SerialEmulatorFormat,
  type SerialEmulatorOptions,
} from './serial-emulator.ts';
export {
  cameraEvents,
  cyclingReading,
  demoPlans,
  devicePayload,
  deviceTopic,
  noisyReading,
  startDevicePublisher,
  wanderingTracker,
  type DeviceMessage,
  type DevicePlan,
  type DevicePublisher,
  type DevicePublisherOptions,
  type SimulatedDevice,
} from './devices.ts';
