export { buildApp, type App, type AppOptions } from './app.ts';
export { startApi } from './start.ts';
export { generateApiKey, hashApiKey, issueApiKey, type GeneratedApiKey } from './apikeys.ts';
export {
  liveValuation,
  loadReaderAvailability,
  type LiveValuationOptions,
  type ValuationSource,
} from './domain/live-valuation.ts';
export { problemType, type Problem } from './http/problems.ts';
