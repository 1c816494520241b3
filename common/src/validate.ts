import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { listSchemaErrors } from './schema-errors.ts';
import { acceptsTagEvent } from './tag-event-check.ts';
import { BatchEnvelope, EVENT_SCHEMAS, type EventType, type UplinkBatch, type UplinkEvent } from './wire.ts';

/** Where a value is wrong (JSON Pointer, '' for the whole value) and why. */
export interface FieldError {
  path: string;
  reason: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export type Check<T> = (value: unknown) => Validated<T>;

/**
 * Compiles a schema once; the returned check gives a typed value or the fields at fault, one error
 * per key. Untrusted wire input keeps TypeBox's small error cap (listing errors costs time);
 * a config file can ask for every one.
 */
export function compileCheck<S extends TSchema>(schema: S, opts: { maxErrors?: number } = {}): Check<Static<S>> {
  const validator = Compile(schema);
  const maxErrors = opts.maxErrors ?? 8;
  return (value) => {
    if (validator.Check(value)) return { ok: true, value };
    const errors = listSchemaErrors(schema, validator, value, maxErrors);
    return { ok: false, errors: errors.length > 0 ? errors : [{ path: '', reason: 'invalid value' }] };
  };
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.reason}`).join('; ');
}

/** Parses JSON from an MQTT payload, naming the problem instead of throwing. */
export function parseJson(payload: Buffer | string): Validated<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, errors: [{ path: '', reason: `not JSON: ${(err as Error).message}` }] };
  }
}

const checkEnvelope = compileCheck(BatchEnvelope);
const eventChecks = Object.fromEntries(
  Object.entries(EVENT_SCHEMAS).map(([type, schema]) => [type, compileCheck(schema)]),
) as Record<EventType, Check<UplinkEvent>>;

export interface RejectedEvent {
  index: number;
  errors: FieldError[];
}

export interface BatchParse {
  batch: UplinkBatch;
  /** Events that failed their schema; the rest of the batch stands. */
  rejected: RejectedEvent[];
}

export function validateEvent(value: unknown, index = 0): Validated<UplinkEvent> {
  const type = (value as { type?: unknown } | null)?.type;
  // The ordinary tag event is taken as it is (see tag-event-check.ts); the rest go to the schemas.
  if (typeof type === 'string' && acceptsTagEvent(type, value)) return { ok: true, value: value as UplinkEvent };
  const check = typeof type === 'string' ? eventChecks[type as EventType] : undefined;
  if (check === undefined) {
    const reason = typeof type === 'string' ? `unknown event type "${type}"` : 'missing event type';
    return { ok: false, errors: [{ path: `/events/${index}/type`, reason }] };
  }
  const result = check(value);
  if (result.ok) return result;
  return { ok: false, errors: result.errors.map((e) => ({ path: `/events/${index}${e.path}`, reason: e.reason })) };
}

/**
 * Validates an uplink batch. A bad envelope rejects the batch; a bad event inside a good
 * envelope is reported and dropped on its own, so one faulty sensor cannot hide the others.
 */
export function validateBatch(value: unknown): Validated<BatchParse> {
  const envelope = checkEnvelope(value);
  if (!envelope.ok) return envelope;
  const raw = envelope.value.events;
  const events: UplinkEvent[] = [];
  const rejected: RejectedEvent[] = [];
  for (let index = 0; index < raw.length; index++) {
    const result = validateEvent(raw[index], index);
    if (result.ok) events.push(result.value);
    else rejected.push({ index, errors: result.errors });
  }
  return { ok: true, value: { batch: { ...envelope.value, events }, rejected } };
}
