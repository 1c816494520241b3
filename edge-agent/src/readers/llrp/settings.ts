/**
 * The `llrp` block of a reader in the edge config: schema, defaults, the checks a schema cannot
 * express, and the resolved (defaults filled) shape the driver takes. config.ts plugs these in.
 */
import { Type, type Static } from 'typebox';
import type { FieldError } from '@pledgewatch/common';
import { LLRP_PORT } from './constants.ts';

export const LLRP_DEFAULTS = {
  port: LLRP_PORT,
  keepaliveMs: 10_000,
  roundMs: 1000,
  reconnect: { initialMs: 1000, maxMs: 60_000 },
} as const;

const closed = { additionalProperties: false } as const;
const Ms = (def: number, minimum: number, description: string) => Type.Optional(Type.Integer({ minimum, default: def, description }));

export const LlrpSettingsSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, pattern: '^[^\\s]+$', description: 'reader hostname or IP address' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: LLRP_DEFAULTS.port, description: 'LLRP TCP port' })),
    keepaliveMs: Ms(LLRP_DEFAULTS.keepaliveMs, 100, 'the reader sends KEEPALIVE this often; silent for two periods → disconnected'),
    roundMs: Ms(LLRP_DEFAULTS.roundMs, 50, 'one inventory round (AISpec duration) and one report every …'),
    reconnect: Type.Optional(
      Type.Object(
        {
          initialMs: Ms(LLRP_DEFAULTS.reconnect.initialMs, 1, 'first retry after …, doubling per failure'),
          maxMs: Ms(LLRP_DEFAULTS.reconnect.maxMs, 1, 'retries never wait longer than …'),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type LlrpSettingsInput = Static<typeof LlrpSettingsSchema>;

export interface LlrpSettingsConfig {
  readonly host: string;
  readonly port: number;
  readonly keepaliveMs: number;
  readonly roundMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * Rules beyond the schema for reader `at` (a JSON pointer): the llrp block is there exactly when the
 * driver is llrp (and the simulated one is not), retries do not start above their cap, and a round
 * fits inside the absence timeout.
 */
export function llrpSettingsErrors(
  reader: { driver: string; llrp?: LlrpSettingsInput; simulated?: unknown },
  at: string,
  absenceMs: number,
): FieldError[] {
  const { llrp } = reader;
  if (reader.driver !== 'llrp') return llrp === undefined ? [] : [{ path: `${at}/llrp`, reason: 'only for driver "llrp"' }];
  const errors: FieldError[] = [];
  if (reader.simulated !== undefined) errors.push({ path: `${at}/simulated`, reason: 'only for driver "simulated"' });
  if (llrp === undefined) return [...errors, { path: `${at}/llrp`, reason: 'required when driver is "llrp"' }];
  const initial = llrp.reconnect?.initialMs ?? LLRP_DEFAULTS.reconnect.initialMs;
  const max = llrp.reconnect?.maxMs ?? LLRP_DEFAULTS.reconnect.maxMs;
  if (initial > max) errors.push({ path: `${at}/llrp/reconnect/initialMs`, reason: `must not exceed reconnect.maxMs (${max})` });
  // Presence takes a gap between rounds longer than the absence timeout for a stalled reader.
  if ((llrp.roundMs ?? LLRP_DEFAULTS.roundMs) >= absenceMs) {
    errors.push({ path: `${at}/llrp/roundMs`, reason: `must be shorter than presence.absenceTimeoutS (${absenceMs} ms)` });
  }
  return errors;
}

export function resolveLlrpSettings(llrp: LlrpSettingsInput): LlrpSettingsConfig {
  const d = LLRP_DEFAULTS;
  return {
    host: llrp.host,
    port: llrp.port ?? d.port,
    keepaliveMs: llrp.keepaliveMs ?? d.keepaliveMs,
    roundMs: llrp.roundMs ?? d.roundMs,
    reconnect: { initialMs: llrp.reconnect?.initialMs ?? d.reconnect.initialMs, maxMs: llrp.reconnect?.maxMs ?? d.reconnect.maxMs },
  };
}
