/**
 * Every error the product reports, defined once: a stable code (the problem+json `type`/`code`),
 * the HTTP status it maps to, and whether a client may retry it as it is.
 */
export const ERRORS = {
  VALIDATION: { status: 400, title: 'Invalid request', retry: false },
  UNAUTHENTICATED: { status: 401, title: 'Missing or invalid API key', retry: false },
  FORBIDDEN: { status: 403, title: 'Not allowed for this API key', retry: false },
  NOT_FOUND: { status: 404, title: 'Not found', retry: false },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body is too large', retry: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type', retry: false },
  PLEDGE_EXISTS: { status: 409, title: 'A pledge with this id already exists', retry: false },
  EPC_ALREADY_PLEDGED: { status: 409, title: 'An item is already pledged under another active pledge', retry: false },
  ACCOUNT_EXISTS: { status: 409, title: 'An MQTT account with this id already exists', retry: false },
  UNKNOWN_SITE: { status: 422, title: 'No gateway is registered at this site', retry: false },
  WEBHOOK_URL_REFUSED: { status: 422, title: 'This webhook URL may not be called', retry: false },
  PRICE_OUT_OF_ORDER: { status: 409, title: 'A newer price is already recorded', retry: false },
  FX_RATE_OUT_OF_ORDER: { status: 409, title: 'A newer FX rate is already recorded for this pair', retry: false },
  ALERT_RESOLVED: { status: 409, title: 'The alert is already resolved', retry: false },
  RELEASE_BREAKS_LIMIT: { status: 409, title: 'The release would take the LTV to the margin-call limit or beyond', retry: false },
  NOT_READY: { status: 503, title: 'Service not ready', retry: true },
  INTERNAL: { status: 500, title: 'Internal error', retry: true },
} as const satisfies Record<string, { status: number; title: string; retry: boolean }>;

export type ErrorCode = keyof typeof ERRORS;

export const PROBLEM_TYPE_BASE = 'https://pledgewatch.dev/problems/';

export class PwError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: { path: string; reason: string }[];
  /** Extra problem members a client can act on (RFC 9457 extensions), e.g. the LTV a release would reach. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    detail?: string,
    errors: { path: string; reason: string }[] = [],
    extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.name = 'PwError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.errors = errors;
    this.extensions = extensions;
  }

  canRetry(): boolean {
    return ERRORS[this.code].retry;
  }
}

export function isPwError(err: unknown, code?: ErrorCode): err is PwError {
  return err instanceof PwError && (code === undefined || err.code === code);
}
