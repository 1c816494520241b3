/**
 * The `serial` block of a reader in the edge config: schema, defaults, the checks a schema cannot
 * express (a regex that compiles and has an `epc` group, distinct CSV columns, …), and the resolved
 * shape the driver takes. config.ts plugs these in.
 */
import { Type, type Static } from 'typebox';
import type { FieldError } from '@pledgewatch/common';

/**
 * 115200 baud, not 9600: a read line ("EPC,antenna,RSSI\r\n") is ~35 bytes, so 9600 baud (~960
 * bytes/s) carries fewer than 30 reads/s — too few for a dense pallet. UHF readers with a serial or
 * USB-serial port ship at 115200 more often than not.
 */
export const SERIAL_DEFAULTS = {
  baudRate: 115_200,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  delimiter: '\r\n',
  format: { kind: 'csv', separator: ',', fields: { epc: 0, antenna: 1, rssi: 2 } },
  defaultAntenna: 1,
  roundMs: 1000,
  reconnect: { initialMs: 500, maxMs: 10_000 },
} as const;

/** The rates Linux termios names; anything else is a typo more often than an exotic reader. */
export const BAUD_RATES = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600] as const;
/** Named groups a regex format may have. */
export const REGEX_GROUPS = ['epc', 'antenna', 'rssi'] as const;

const closed = { additionalProperties: false } as const;
const Column = (description: string) => Type.Integer({ minimum: 0, maximum: 255, description });
const Ms = (def: number, minimum: number, description: string) => Type.Optional(Type.Integer({ minimum, default: def, description }));

const FormatSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('csv'), Type.Literal('regex')], { description: 'csv: columns by index; regex: named groups' }),
    separator: Type.Optional(Type.String({ minLength: 1, maxLength: 8, default: ',', description: 'csv only' })),
    fields: Type.Optional(
      Type.Object(
        {
          epc: Column('column of the hex EPC (0 = first)'),
          antenna: Type.Optional(Column('column of the antenna number; defaultAntenna when absent')),
          rssi: Type.Optional(Column('column of the RSSI in dBm')),
        },
        { ...closed, description: 'csv only (default epc 0, antenna 1, rssi 2)' },
      ),
    ),
    pattern: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'regex only: JavaScript regular expression with named groups epc, antenna?, rssi?' }),
    ),
  },
  closed,
);

export const SerialSettingsSchema = Type.Object(
  {
    path: Type.String({ minLength: 2, pattern: '^/', description: 'device path; prefer /dev/serial/by-id/… (stable across re-plugging)' }),
    // Spelled out, not BAUD_RATES.map(): Static<> of a union over a mapped array is never.
    baudRate: Type.Optional(
      Type.Union(
        [
          Type.Literal(1200), Type.Literal(2400), Type.Literal(4800), Type.Literal(9600), Type.Literal(19_200), Type.Literal(38_400),
          Type.Literal(57_600), Type.Literal(115_200), Type.Literal(230_400), Type.Literal(460_800), Type.Literal(921_600),
        ],
        { default: SERIAL_DEFAULTS.baudRate },
      ),
    ),
    dataBits: Type.Optional(Type.Integer({ minimum: 5, maximum: 8, default: SERIAL_DEFAULTS.dataBits })),
    parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { default: SERIAL_DEFAULTS.parity })),
    // 1.5 stop bits is refused by Linux termios (serialport's binding fails to open), so not offered.
    stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { default: SERIAL_DEFAULTS.stopBits })),
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 8, default: SERIAL_DEFAULTS.delimiter, description: 'end of a line' })),
    format: Type.Optional(FormatSchema),
    defaultAntenna: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: SERIAL_DEFAULTS.defaultAntenna, description: 'for lines without an antenna' })),
    roundMs: Ms(SERIAL_DEFAULTS.roundMs, 50, 'a line reader has no rounds: one is counted every … while the port is open'),
    silenceTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 100, description: 'no line for this long → reader disconnected (off by default: many readers are silent with no tag in the field)' }),
    ),
    reconnect: Type.Optional(
      Type.Object(
        {
          initialMs: Ms(SERIAL_DEFAULTS.reconnect.initialMs, 1, 'first reopen after …, doubling per failure'),
          maxMs: Ms(SERIAL_DEFAULTS.reconnect.maxMs, 1, 'reopen attempts never wait longer than …'),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type SerialSettingsInput = Static<typeof SerialSettingsSchema>;

export type SerialLineFormat =
  | {
      readonly kind: 'csv';
      readonly separator: string;
      readonly fields: { readonly epc: number; readonly antenna?: number; readonly rssi?: number };
    }
  | { readonly kind: 'regex'; readonly pattern: string };

export interface SerialSettingsConfig {
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits: 5 | 6 | 7 | 8;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
  readonly delimiter: string;
  readonly format: SerialLineFormat;
  readonly defaultAntenna: number;
  readonly roundMs: number;
  readonly silenceTimeoutMs?: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * Rules beyond the schema for reader `at` (a JSON pointer): the serial block is there exactly when
 * the driver is serial, the format's keys fit its kind, and the timings fit the absence timeout.
 */
export function serialSettingsErrors(
  reader: { driver: string; serial?: SerialSettingsInput; simulated?: unknown },
  at: string,
  absenceMs: number,
): FieldError[] {
  const { serial } = reader;
  if (reader.driver !== 'serial') return serial === undefined ? [] : [{ path: `${at}/serial`, reason: 'only for driver "serial"' }];
  const errors: FieldError[] = [];
  if (reader.simulated !== undefined) errors.push({ path: `${at}/simulated`, reason: 'only for driver "simulated"' });
  if (serial === undefined) return [...errors, { path: `${at}/serial`, reason: 'required when driver is "serial"' }];
  const s = `${at}/serial`;
  if (serial.format !== undefined) errors.push(...formatErrors(serial.format, `${s}/format`));
  const initial = serial.reconnect?.initialMs ?? SERIAL_DEFAULTS.reconnect.initialMs;
  const max = serial.reconnect?.maxMs ?? SERIAL_DEFAULTS.reconnect.maxMs;
  if (initial > max) errors.push({ path: `${s}/reconnect/initialMs`, reason: `must not exceed reconnect.maxMs (${max})` });
  // Presence takes a gap between rounds longer than the absence timeout for a stalled reader.
  const roundMs = serial.roundMs ?? SERIAL_DEFAULTS.roundMs;
  if (roundMs >= absenceMs) errors.push({ path: `${s}/roundMs`, reason: `must be shorter than presence.absenceTimeoutS (${absenceMs} ms)` });
  const silence = serial.silenceTimeoutMs;
  if (silence !== undefined && silence < roundMs) errors.push({ path: `${s}/silenceTimeoutMs`, reason: `must be at least roundMs (${roundMs})` });
  // Tags would depart before a silent reader was noticed.
  if (silence !== undefined && silence >= absenceMs) {
    errors.push({ path: `${s}/silenceTimeoutMs`, reason: `must be shorter than presence.absenceTimeoutS (${absenceMs} ms)` });
  }
  return errors;
}

function formatErrors(format: NonNullable<SerialSettingsInput['format']>, at: string): FieldError[] {
  const errors: FieldError[] = [];
  if (format.kind === 'csv') {
    if (format.pattern !== undefined) errors.push({ path: `${at}/pattern`, reason: 'only for format kind "regex"' });
    const fields = format.fields;
    if (fields !== undefined) {
      for (const name of ['antenna', 'rssi'] as const) {
        const column = fields[name];
        if (column === undefined) continue;
        const clash = (['epc', 'antenna'] as const).find((other) => other !== name && fields[other] === column);
        if (clash !== undefined) errors.push({ path: `${at}/fields/${name}`, reason: `same column as fields.${clash} (${column})` });
      }
    }
    return errors;
  }
  if (format.separator !== undefined) errors.push({ path: `${at}/separator`, reason: 'only for format kind "csv"' });
  if (format.fields !== undefined) errors.push({ path: `${at}/fields`, reason: 'only for format kind "csv"' });
  if (format.pattern === undefined) return [...errors, { path: `${at}/pattern`, reason: 'required when format kind is "regex"' }];
  const groups = regexGroups(format.pattern);
  if (typeof groups === 'string') return [...errors, { path: `${at}/pattern`, reason: `not a valid regular expression: ${groups}` }];
  if (!groups.includes('epc')) errors.push({ path: `${at}/pattern`, reason: 'needs a named group (?<epc>…) capturing the hex EPC' });
  for (const name of groups) {
    if (!(REGEX_GROUPS as readonly string[]).includes(name)) {
      errors.push({ path: `${at}/pattern`, reason: `unknown named group "${name}" (allowed: ${REGEX_GROUPS.join(', ')})` });
    }
  }
  return errors;
}

/** The named groups of a pattern, or the compile error's message. */
function regexGroups(pattern: string): string[] | string {
  try {
    new RegExp(pattern);
    // An empty alternative always matches, and `groups` then lists every name the pattern has.
    return Object.keys(new RegExp(`(?:${pattern})|`).exec('')?.groups ?? {});
  } catch (err) {
    return (err as Error).message;
  }
}

export function resolveSerialSettings(serial: SerialSettingsInput): SerialSettingsConfig {
  const d = SERIAL_DEFAULTS;
  const f = serial.format;
  const format: SerialLineFormat =
    f?.kind === 'regex'
      ? { kind: 'regex', pattern: f.pattern ?? '' }
      : { kind: 'csv', separator: f?.separator ?? d.format.separator, fields: { ...(f?.fields ?? d.format.fields) } };
  return {
    path: serial.path,
    baudRate: serial.baudRate ?? d.baudRate,
    dataBits: (serial.dataBits ?? d.dataBits) as SerialSettingsConfig['dataBits'],
    parity: serial.parity ?? d.parity,
    stopBits: serial.stopBits ?? d.stopBits,
    delimiter: serial.delimiter ?? d.delimiter,
    format,
    defaultAntenna: serial.defaultAntenna ?? d.defaultAntenna,
    roundMs: serial.roundMs ?? d.roundMs,
    ...(serial.silenceTimeoutMs === undefined ? {} : { silenceTimeoutMs: serial.silenceTimeoutMs }),
    reconnect: { initialMs: serial.reconnect?.initialMs ?? d.reconnect.initialMs, maxMs: serial.reconnect?.maxMs ?? d.reconnect.maxMs },
  };
}
