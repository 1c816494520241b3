/**
 * Every error leaves as RFC 9457 problem+json: our own PwErrors, fastify's validation and parser
 * errors, unknown routes, and anything unexpected (500, details only in the log).
 */
import { ERRORS, isPwError, PROBLEM_TYPE_BASE, PwError, type ErrorCode, type FieldError } from '@pledgewatch/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';

export interface ProblemError extends FieldError {
  in?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  requestId: string;
  errors?: ProblemError[];
}

export const problemType = (code: ErrorCode): string => PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');

export function problemOf(err: PwError, request: FastifyRequest): Problem {
  const problem: Problem = {
    // Extensions first: the standard members below always win over a same-named extension.
    ...err.extensions,
    type: problemType(err.code),
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: String(request.id),
  };
  if (err.errors.length > 0) problem.errors = err.errors;
  return problem;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer');
  // Sent as a string: problems bypass the routes' success serializers, whatever the status.
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** Turns schema errors (TypeBox or Ajv flavour) into one entry per field at fault, as JSON Pointers. */
export function fieldErrors(errors: readonly FastifySchemaValidationError[], part: string | undefined): ProblemError[] {
  const out: ProblemError[] = [];
  const seen = new Set<string>();
  const add = (path: string, reason: string): void => {
    const key = `${path}\u0000${reason}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(part === undefined ? { path, reason } : { path, reason, in: part });
  };
  for (const e of errors) {
    const base = e.instancePath;
    const params = e.params;
    if (e.keyword === 'required') {
      const missing = (params.requiredProperties as string[] | undefined) ?? [String(params.missingProperty)];
      for (const name of missing) add(`${base}/${escapePointer(name)}`, 'is required');
    } else if (e.keyword === 'additionalProperties') {
      const extra = (params.additionalProperties as string[] | string | undefined) ?? params.additionalProperty;
      for (const name of [extra].flat()) add(`${base}/${escapePointer(String(name))}`, 'is not allowed');
    } else if (e.keyword === 'boolean') {
      add(base, 'is not allowed'); // TypeBox reports an extra property also as "schema is false" at its path
    } else if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      add(base, `must be one of ${params.allowedValues.map(String).join(', ')}`);
    } else {
      add(base, e.message ?? e.keyword);
    }
  }
  return out;
}

/** Maps what fastify throws (validation, body parsing, routing) onto the stable codes. */
export function asPwError(err: FastifyError): PwError | null {
  if (isPwError(err)) return err;
  if (err.validation !== undefined) {
    const errors = fieldErrors(err.validation, err.validationContext);
    const where = errors.map((e) => `${e.in ?? ''} ${e.path || '/'}: ${e.reason}`.trim()).join('; ');
    return new PwError('VALIDATION', `Invalid request: ${where}`, errors);
  }
  const status = err.statusCode ?? 500;
  if (status >= 500) return null;
  const code: ErrorCode =
    status === 404 ? 'NOT_FOUND'
    : status === 413 ? 'PAYLOAD_TOO_LARGE'
    : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE'
    : status === 401 ? 'UNAUTHENTICATED'
    : 'VALIDATION';
  // Fastify's client-error messages describe the request (bad JSON, wrong length), never our internals.
  return new PwError(code, err.message);
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = asPwError(err);
    if (known !== null) {
      if (known.status >= 500) request.log.error({ err }, 'request failed');
      return sendProblem(reply, problemOf(known, request));
    }
    request.log.error({ err }, 'unexpected error');
    return sendProblem(reply, problemOf(new PwError('INTERNAL', 'An unexpected error occurred; it has been logged.'), request));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemOf(new PwError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`), request)),
  );
}
