export { attemptDelivery, deliveryAgent, DELIVERY_TIMEOUT_MS, type AttemptResult } from './attempt.ts';
export { nextDelayMs, outcomeOf, parseRetryAfter, RETRY_SCHEDULE_MS, type Outcome } from './schedule.ts';
export { generateSecret, isSecret, sign, webhookHeaders } from './signing.ts';
export { AddressGuard, type AddressPolicy } from './ssrf.ts';
export { Dispatcher, type DispatcherOptions, type EventFeed, type OutboxEvent } from './dispatcher.ts';
