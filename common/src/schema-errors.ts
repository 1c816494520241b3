/**
 * Every way a value fails a TypeBox schema, one FieldError per key: unknown and missing keys get
 * their own JSON Pointer instead of their parent's.
 */
import type { TSchema } from 'typebox';
import { Settings } from 'typebox/system';
import type { FieldError } from './validate.ts';

interface RawError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: unknown;
  message: string;
}

interface SchemaValidator {
  Check(value: unknown): boolean;
  Errors(value: unknown): RawError[];
}

/**
 * Lists every error; [] when `value` is valid. A map whose bad keys mean more than "unknown"
 * says so with a `keyMeaning` annotation on its schema ("an antenna number 1..65535").
 */
export function listSchemaErrors(schema: TSchema, validator: SchemaValidator, value: unknown, maxErrors = 1000): FieldError[] {
  if (validator.Check(value)) return [];
  // TypeBox stops at 8 errors by default (a DoS guard for untrusted input); a config file should
  // list every mistake at once, so the cap is set for this call only.
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors });
  try {
    return dedupe(validator.Errors(value).flatMap((e) => toFieldErrors(schema, e)));
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

function toFieldErrors(schema: TSchema, e: RawError): FieldError[] {
  const params = e.params as { additionalProperties?: string[]; requiredProperties?: string[]; allowedValue?: unknown };
  if (e.keyword === 'additionalProperties') {
    const keyMeaning = schemaAt(schema, e.schemaPath)?.keyMeaning;
    const reason = typeof keyMeaning === 'string' ? `key must be ${keyMeaning}` : 'unknown key';
    return (params.additionalProperties ?? []).map((key) => ({ path: `${e.instancePath}/${escapeKey(key)}`, reason }));
  }
  if (e.keyword === 'required') {
    return (params.requiredProperties ?? []).map((key) => ({ path: `${e.instancePath}/${escapeKey(key)}`, reason: 'required' }));
  }
  // Repeats: the per-key `false` schema behind additionalProperties, and a union's summary of the
  // const errors of its members (kept, and joined by dedupe).
  if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) return [];
  if (e.keyword === 'anyOf') return [];
  if (e.keyword === 'const') return [{ path: e.instancePath, reason: `must be ${JSON.stringify(params.allowedValue)}` }];
  return [{ path: e.instancePath, reason: e.message }];
}

/** The sub-schema a TypeBox error's schemaPath (`#/properties/…`) points at. */
function schemaAt(schema: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter((p) => p !== '')) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : undefined;
}

function dedupe(errors: FieldError[]): FieldError[] {
  const byPath = new Map<string, string[]>();
  for (const e of errors) {
    const reasons = byPath.get(e.path) ?? [];
    if (!reasons.includes(e.reason)) reasons.push(e.reason);
    byPath.set(e.path, reasons);
  }
  return [...byPath].map(([path, reasons]) => ({ path, reason: reasons.join(' or ') }));
}

function escapeKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
