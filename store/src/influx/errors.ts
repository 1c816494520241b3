/**
 * Whether a failed InfluxDB request may succeed later (the property decides between retrying and
 * dropping, as influxdb-client-js's `canRetry()` does). Writes (write-request.ts) report an HTTP
 * answer as an InfluxHttpError with its status, a timeout as ETIMEDOUT; queries go through the influx
 * client, which reports 5xx and timeouts as ServiceNotAvailableError and other HTTP answers as a
 * RequestError with the response. Socket errors are Node's own, with a code.
 */
import type { SendFailure } from './types.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET',
]);

function statusOf(err: unknown): number | undefined {
  const res = (err as { res?: { statusCode?: unknown } } | null)?.res;
  return typeof res?.statusCode === 'number' ? res.statusCode : undefined;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function isDatabaseMissing(err: unknown): boolean {
  return statusOf(err) === 404 && /database not found/i.test(messageOf(err));
}

/** A network failure, timeout or server error: the same request may work in a moment. */
export function isTransient(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status >= 500 || status === 429;
  return classifyInfluxError(err, 0).retry;
}

export function classifyInfluxError(err: unknown, batchSize: number): SendFailure {
  const status = statusOf(err);
  if (status === undefined) {
    const name = (err as { name?: unknown } | null)?.name;
    const code = (err as { code?: unknown } | null)?.code;
    if (name === 'ServiceNotAvailableError') return { retry: true, reason: `InfluxDB unavailable (${messageOf(err)})` };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return { retry: true, reason: `cannot reach InfluxDB (${code})` };
    // Anything else is a bug on this side (a point the client cannot serialise): retrying would loop forever.
    return { retry: false, lostPoints: batchSize, reason: messageOf(err) };
  }
  if (isDatabaseMissing(err)) return { retry: true, reason: 'database not found (it is created again before the retry)' };
  // 401/403: credentials or a token that an operator can fix without restarting us; 429: rate limited.
  if (status === 401 || status === 403 || status === 429 || status >= 500) {
    return { retry: true, reason: `InfluxDB answered ${status}` };
  }
  // 400 is bad data: InfluxDB 1.x writes the good points of a batch and says how many it dropped.
  const dropped = /dropped=(\d+)/.exec(messageOf(err))?.[1];
  return { retry: false, lostPoints: dropped === undefined ? batchSize : Math.min(batchSize, Number(dropped)), reason: messageOf(err) };
}
