/**
 * The time range of GET /v1/pledges/{id}/history from its query parameters: where it starts and ends,
 * how far apart its points are, and the limits that keep an answer chartable. Pure; bad input throws
 * PwError VALIDATION naming each parameter at fault.
 */
import { PwError } from '@pledgewatch/common';
import type { ProblemError } from '../http/problems.ts';

export interface HistoryQuery {
  from?: string | undefined;
  to?: string | undefined;
  step?: string | undefined;
}

export interface HistoryRange {
  /** epoch ms: the first point's time */
  from: number;
  /** epoch ms: no point after it */
  to: number;
  stepMs: number;
}

/** Points per series at most: a year by day, a week by 5 minutes, a day by minute fit. */
export const MAX_POINTS = 2_100;
export const DEFAULT_SPAN_MS = 24 * 3600_000;
/** Points were written at ingest's checkpoints, a second apart at the finest. */
export const MIN_STEP_MS = 1_000;
/** The default step is the first of these (seconds) that gives at most this many points. */
const DEFAULT_POINTS = 300;
const NICE_STEPS_S = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];

const S = 1000;
const MINUTE = 60 * S;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SHORT_UNITS = { s: S, m: MINUTE, h: HOUR, d: DAY } as const;
/** Ten years: beyond, a step says nothing a single point does not. */
const MAX_STEP_MS = 3650 * DAY;
const STEP_FORMS = 'whole seconds (300), a number with s, m, h or d (5m, 1h), or an ISO 8601 duration (PT5M, P1D)';
const ISO_DURATION = /^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,9}(?:\.\d{1,3})?)S)?)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const problem = (name: string, reason: string): ProblemError => ({ path: `/${name}`, reason, in: 'querystring' });

export function parseHistoryRange(query: HistoryQuery, now: number): HistoryRange {
  const errors: ProblemError[] = [];
  const time = (name: 'from' | 'to', text: string | undefined, otherwise: () => number): number => {
    if (text === undefined) return otherwise();
    const ms = parseTime(text);
    if (ms === null) errors.push(problem(name, 'is not a valid RFC 3339 time (e.g. 2026-03-01T08:00:00Z)'));
    // Nothing was recorded before 1970, and time-series stores keep no such times.
    else if (ms < 0) errors.push(problem(name, 'is before 1970'));
    return ms ?? Number.NaN;
  };
  const to = time('to', query.to, () => now);
  const from = time('from', query.from, () => to - DEFAULT_SPAN_MS);
  let stepMs = Number.NaN;
  if (query.step !== undefined) {
    const step = parseStep(query.step);
    if (typeof step === 'string') errors.push(problem('step', step));
    else stepMs = step;
  }
  if (errors.length === 0) {
    if (!(from < to)) errors.push(problem('from', `must be before to (${new Date(to).toISOString()})`));
    else if (query.step === undefined) stepMs = defaultStep(to - from);
    else if (pointsIn(from, to, stepMs) > MAX_POINTS) {
      const least = Math.ceil((to - from) / (MAX_POINTS - 1) / S) * S;
      errors.push(problem('step', `gives ${pointsIn(from, to, stepMs)} points, more than ${MAX_POINTS}: use a step of at least ${formatStep(least)} for this range`));
    }
  }
  if (errors.length > 0) throw new PwError('VALIDATION', `Invalid history range: ${errors.map((e) => `${e.path.slice(1)} ${e.reason}`).join('; ')}`, errors);
  return { from, to, stepMs };
}

/** Points at from, from + step, … up to `to`. */
export function pointsIn(from: number, to: number, stepMs: number): number {
  return Math.floor((to - from) / stepMs) + 1;
}

/** Epoch ms of an RFC 3339 time, or null; unlike Date.parse, 2026-02-30 is refused, not rolled over. */
export function parseTime(text: string): number | null {
  const m = RFC3339.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** A step in ms, or the reason it is refused. */
export function parseStep(text: string): number | string {
  let ms: number | null = null;
  const short = /^(\d{1,9})([smhd]?)$/.exec(text);
  const iso = ISO_DURATION.exec(text);
  if (short !== null) {
    ms = Number(short[1]) * SHORT_UNITS[(short[2] || 's') as keyof typeof SHORT_UNITS];
  } else if (iso !== null && text !== 'P' && !text.endsWith('T')) {
    const [w, d, h, min, sec] = iso.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number];
    ms = Math.round((w * 7 + d) * DAY + h * HOUR + min * MINUTE + sec * S);
  } else if (/^P(\d+Y|\d+M)/.test(text)) {
    return 'years and months have no fixed length: use weeks or days (P4W, P30D)';
  }
  if (ms === null) return `must be ${STEP_FORMS}`;
  if (ms < MIN_STEP_MS) return `must be at least 1 s (${formatStep(MIN_STEP_MS)})`;
  if (ms > MAX_STEP_MS) return `must be at most ten years (${formatStep(MAX_STEP_MS)})`;
  return ms;
}

/** The first nice step that gives at most DEFAULT_POINTS points over the span. */
export function defaultStep(spanMs: number): number {
  for (const s of NICE_STEPS_S) if (pointsIn(0, spanMs, s * S) <= DEFAULT_POINTS) return s * S;
  return Math.ceil(spanMs / (DEFAULT_POINTS - 1) / S) * S;
}

/** A step as an ISO 8601 duration: P1D, PT5M, PT1H30M, PT1.5S. */
export function formatStep(ms: number): string {
  const days = Math.floor(ms / DAY);
  let rest = ms - days * DAY;
  const parts: string[] = [];
  for (const [unit, size] of [['H', HOUR], ['M', MINUTE]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  if (rest > 0) parts.push(`${rest / S}S`);
  return `P${days > 0 ? `${days}D` : ''}${parts.length > 0 ? `T${parts.join('')}` : ''}`;
}
