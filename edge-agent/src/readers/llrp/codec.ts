/**
 * The LLRP codec: a focused binary encoder/decoder for the messages and parameters the driver and
 * the emulator exchange, plus a generic TLV/TV walker that skips everything else. One import for
 * the driver, the emulator and the golden tests.
 */
export * from './constants.ts';
export * from './frames.ts';
export { FieldReader, FieldWriter, paramsAfter, tlv, tv, walkParams, type LlrpParam } from './params.ts';
export * from './status.ts';
export * from './config-params.ts';
export * from './reports.ts';
export * from './notifications.ts';
export * from './rospec.ts';
export * from './client-messages.ts';
export * from './reader-messages.ts';
