/** One HTTP delivery attempt: POST, bounded in time, never throwing — the outcome is data. */
import { Agent, request } from 'undici';
import type { AddressGuard } from './ssrf.ts';
import { parseRetryAfter } from './schedule.ts';

export const DELIVERY_TIMEOUT_MS = 15_000;

export interface AttemptResult {
  /** HTTP status, or null when no response came (refused, reset, timed out). */
  status: number | null;
  latencyMs: number;
  error?: string;
  retryAfterMs?: number;
}

/** The HTTP client for deliveries: every connection goes through the address guard. */
export function deliveryAgent(guard: AddressGuard): Agent {
  return new Agent({ connect: { lookup: guard.lookup }, keepAliveTimeout: 30_000 });
}

export async function attemptDelivery(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs?: number; now: () => number },
): Promise<AttemptResult> {
  const timeoutMs = opts.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const started = performance.now();
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'user-agent': 'PledgeWatch-Webhooks/1', ...headers },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The receiver's body is of no use to us; read it off so the connection can be reused.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const retryAfter = res.headers['retry-after'];
    const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, opts.now());
    return {
      status: res.statusCode,
      latencyMs: Math.round(performance.now() - started),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { message?: string } };
    const reason = e.name === 'TimeoutError' || e.name === 'AbortError' ? `timed out after ${timeoutMs} ms` : (e.cause?.message ?? e.message);
    return { status: null, latencyMs: Math.round(performance.now() - started), error: reason };
  }
}
