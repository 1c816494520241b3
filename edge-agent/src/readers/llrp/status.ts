/** LLRPStatus: the verdict every *_RESPONSE and ERROR_MESSAGE carries. */
import { ParamType, STATUS_SUCCESS, statusName } from './constants.ts';
import { LlrpDecodeError } from './frames.ts';
import { FieldReader, FieldWriter, tlv, walkParams, type LlrpParam } from './params.ts';

export interface LlrpFieldError {
  fieldNum: number;
  errorCode: number;
}

export interface LlrpParameterError {
  parameterType: number;
  errorCode: number;
  fieldError?: LlrpFieldError;
  parameterError?: LlrpParameterError;
}

export interface LlrpStatus {
  code: number;
  description: string;
  fieldError?: LlrpFieldError;
  parameterError?: LlrpParameterError;
}

export const SUCCESS: LlrpStatus = Object.freeze({ code: STATUS_SUCCESS, description: '' });

export function isSuccess(status: LlrpStatus): boolean {
  return status.code === STATUS_SUCCESS;
}

/** One line for a log or an error: `M_FieldError "bad id" (field 1: A_Invalid)`. */
export function describeStatus(status: LlrpStatus): string {
  const parts = [statusName(status.code)];
  if (status.description !== '') parts.push(JSON.stringify(status.description));
  if (status.fieldError !== undefined) parts.push(`(field ${status.fieldError.fieldNum}: ${statusName(status.fieldError.errorCode)})`);
  for (let p = status.parameterError; p !== undefined; p = p.parameterError) {
    const field = p.fieldError === undefined ? '' : `, field ${p.fieldError.fieldNum}: ${statusName(p.fieldError.errorCode)}`;
    parts.push(`(parameter ${p.parameterType}: ${statusName(p.errorCode)}${field})`);
  }
  return parts.join(' ');
}

export function decodeStatusParam(value: Buffer): LlrpStatus {
  const r = new FieldReader(value, 'LLRPStatus');
  const status: LlrpStatus = { code: r.u16(), description: r.utf8() };
  for (const p of r.params()) {
    if (p.type === ParamType.FieldError && !p.tv) status.fieldError = decodeFieldError(p.value);
    if (p.type === ParamType.ParameterError && !p.tv) status.parameterError = decodeParameterError(p.value);
  }
  return status;
}

/** The LLRPStatus among a body's parameters (responses carry it first). */
export function findStatus(params: Iterable<LlrpParam>, what: string): LlrpStatus {
  for (const p of params) if (p.type === ParamType.LLRPStatus && !p.tv) return decodeStatusParam(p.value);
  throw new LlrpDecodeError(`${what} has no LLRPStatus`);
}

/** A *_RESPONSE or ERROR_MESSAGE body: just its status (extra parameters are ignored here). */
export function decodeStatusBody(body: Buffer, what = 'response'): LlrpStatus {
  return findStatus(walkParams(body), what);
}

export function encodeStatusParam(status: LlrpStatus): Buffer {
  const w = new FieldWriter().u16(status.code).utf8(status.description);
  if (status.fieldError !== undefined) w.raw(encodeFieldError(status.fieldError));
  if (status.parameterError !== undefined) w.raw(encodeParameterError(status.parameterError));
  return tlv(ParamType.LLRPStatus, w.build());
}

function decodeFieldError(value: Buffer): LlrpFieldError {
  const r = new FieldReader(value, 'FieldError');
  return { fieldNum: r.u16(), errorCode: r.u16() };
}

function decodeParameterError(value: Buffer): LlrpParameterError {
  const r = new FieldReader(value, 'ParameterError');
  const error: LlrpParameterError = { parameterType: r.u16(), errorCode: r.u16() };
  for (const p of r.params()) {
    if (p.type === ParamType.FieldError && !p.tv) error.fieldError = decodeFieldError(p.value);
    if (p.type === ParamType.ParameterError && !p.tv) error.parameterError = decodeParameterError(p.value);
  }
  return error;
}

function encodeFieldError(e: LlrpFieldError): Buffer {
  return tlv(ParamType.FieldError, new FieldWriter().u16(e.fieldNum).u16(e.errorCode).build());
}

function encodeParameterError(e: LlrpParameterError): Buffer {
  const w = new FieldWriter().u16(e.parameterType).u16(e.errorCode);
  if (e.fieldError !== undefined) w.raw(encodeFieldError(e.fieldError));
  if (e.parameterError !== undefined) w.raw(encodeParameterError(e.parameterError));
  return tlv(ParamType.ParameterError, w.build());
}
