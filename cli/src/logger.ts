import pino, { type Logger } from 'pino';

/** Services log JSON to stdout; one-shot commands log to stderr so stdout carries only their answer. */
export function makeLogger(level: string, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  return pino({ level, base: { app: 'pledgewatch' } }, pino.destination(to === 'stdout' ? 1 : 2));
}
