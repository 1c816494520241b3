export { buildApp, type App, type AppOptions } from './app.ts';
export { startApi } from './start.ts';
export { loadOrCreateSigningKey, type LoadedSigningKey } from './signing-key.ts';
export { issueCertificate, type ValuationCertificate } from './domain/certificate.ts';
export { generateApiKey, hashApiKey, issueApiKey, type GeneratedApiKey } from './apikeys.ts';
export {
  liveValuation,
  loadReaderAvailability,
  type LiveValuationOptions,
  type ValuationSource,
} from './domain/live-valuation.ts';
export { problemType, type Problem } from './http/problems.ts';
