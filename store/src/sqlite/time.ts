import { PwError } from '@pledgewatch/common';

/**
 * Times are compared as epoch ms, not as strings: '…T10:00:00Z' and '…T10:00:00.000Z' are the same
 * instant but sort differently as text.
 */
export function toMs(time: string, what: string): number {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new PwError('VALIDATION', `${what} is not a time: ${time}`);
  return ms;
}
