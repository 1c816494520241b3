import { Type } from 'typebox';

/** CONTRACT.md: identifiers are strings of [A-Za-z0-9._-]{1,64}. */
export const ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
export const ID_REGEX = new RegExp(ID_PATTERN);
export const Id = Type.String({ pattern: ID_PATTERN, description: 'identifier: [A-Za-z0-9._-]{1,64}' });

/** EPC as hex (96 to 496 bits in practice); normalised to upper case by the code that stores it. */
export const EPC_PATTERN = '^[0-9A-Fa-f]{8,124}$';
export const Epc = Type.String({ pattern: EPC_PATTERN, description: 'EPC in hexadecimal' });

export const RFC3339_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';
export const Time = Type.String({ pattern: RFC3339_PATTERN, description: 'RFC 3339 time, e.g. 2026-11-28T20:00:00.000Z' });

export function isId(value: string): boolean {
  return ID_REGEX.test(value);
}

export function normaliseEpc(epc: string): string {
  return epc.toUpperCase();
}
