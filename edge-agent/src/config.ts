/**
 * The edge agent's config file (JSON). Validated once at start and frozen: a wrong config stops the
 * agent with every bad key named, never later (STYLE.md §5).
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Epc, Id, PwError, describeErrors, listSchemaErrors, type FieldError } from '@pledgewatch/common';
import { LocalBrokerSchema, localBrokerErrors, resolveLocalBroker, type LocalBrokerConfig } from './local-broker/config.ts';
import { MetricsSettingsSchema, resolveMetricsSettings, type MetricsSettings } from './metrics-server.ts';
import { LLRP_DEFAULTS, LlrpSettingsSchema, llrpSettingsErrors, resolveLlrpSettings, type LlrpSettingsConfig, type LlrpSettingsInput } from './readers/llrp/settings.ts';
import {
  SERIAL_DEFAULTS,
  SerialSettingsSchema,
  resolveSerialSettings,
  serialSettingsErrors,
  type SerialSettingsConfig,
  type SerialSettingsInput,
} from './readers/serial/settings.ts';

/** Every default of the config file, in one place; the schema repeats them as `default` for docs. */
export const EDGE_DEFAULTS = {
  heartbeatIntervalS: 30,
  batch: { maxEvents: 200, maxDelayMs: 250 },
  presence: { absenceTimeoutS: 60, snapshotIntervalS: 300 },
  outbox: { maxBytes: 256 * 1024 * 1024, maxAgeS: 7 * 24 * 3600 },
  simulated: { roundMs: 1000, missProbability: 0.1 },
  llrp: LLRP_DEFAULTS,
  serial: SERIAL_DEFAULTS,
} as const;

/** Reader driver kinds; LLRP and serial adapters add theirs here. */
export const READER_DRIVERS = ['simulated', 'llrp', 'serial'] as const;
export type ReaderDriverKind = (typeof READER_DRIVERS)[number];

const MAX_ANTENNA = 65535;
// Antenna numbers as JSON object keys; the range check is semantic (below) to give a plain message.
const ANTENNA_KEY = Type.String({ pattern: '^[1-9][0-9]{0,4}$' });
// Read back by listSchemaErrors: a bad key in these maps is a bad antenna number, not an "unknown key".
const antennaKeyed = { additionalProperties: false, keyMeaning: `an antenna number 1..${MAX_ANTENNA}` } as const;
const Seconds = (def: number, description: string) => Type.Number({ exclusiveMinimum: 0, default: def, description });
const closed = { additionalProperties: false } as const;

const SimulatedSettings = Type.Object(
  {
    roundMs: Type.Optional(Type.Integer({ minimum: 1, default: EDGE_DEFAULTS.simulated.roundMs, description: 'one inventory round every roundMs' })),
    missProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: EDGE_DEFAULTS.simulated.missProbability })),
    rssi: Type.Optional(Type.Number({ description: 'dBm reported with every read; omitted when unset' })),
    tags: Type.Optional(
      Type.Record(ANTENNA_KEY, Type.Array(Epc, { maxItems: 100_000 }), {
        ...antennaKeyed,
        description: 'antenna number → EPCs in its field at start',
      }),
    ),
  },
  closed,
);

const ReaderSchema = Type.Object(
  {
    id: Id,
    // Spelled out, not READER_DRIVERS.map(): Static<> of a union over a mapped array is never.
    driver: Type.Union([Type.Literal(READER_DRIVERS[0]), Type.Literal(READER_DRIVERS[1]), Type.Literal(READER_DRIVERS[2])]),
    antennas: Type.Record(ANTENNA_KEY, Id, { ...antennaKeyed, minProperties: 1, description: 'antenna number → zone' }),
    simulated: Type.Optional(SimulatedSettings),
    llrp: Type.Optional(LlrpSettingsSchema),
    serial: Type.Optional(SerialSettingsSchema),
  },
  closed,
);

export const EdgeConfigSchema = Type.Object(
  {
    gatewayId: Id,
    dataDir: Type.String({ minLength: 1, description: 'holds edge.db: the batch sequence and the outbox' }),
    uplink: Type.Object(
      {
        url: Type.String({ pattern: '^(mqtts?|tcp|ssl|wss?)://[^\\s]+$', description: 'central MQTT broker' }),
        username: Type.Optional(Type.String({ minLength: 1, description: 'default: gatewayId (CONTRACT.md §5: MQTT username = gateway id)' })),
        password: Type.Optional(Type.String()),
        clientId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'default pw-edge-{gatewayId}' })),
        tls: Type.Optional(
          Type.Object(
            {
              ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file: CA(s) of the broker certificate; default the system CAs' })),
              cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM file: this gateway client certificate' })),
              key: Type.Optional(Type.String({ minLength: 1, description: 'PEM file: private key of cert' })),
            },
            closed,
          ),
        ),
      },
      closed,
    ),
    heartbeatIntervalS: Type.Optional(Seconds(EDGE_DEFAULTS.heartbeatIntervalS, 'retained status every …')),
    batch: Type.Optional(
      Type.Object(
        {
          maxEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: EDGE_DEFAULTS.batch.maxEvents })),
          maxDelayMs: Type.Optional(Type.Integer({ minimum: 0, default: EDGE_DEFAULTS.batch.maxDelayMs })),
        },
        closed,
      ),
    ),
    presence: Type.Optional(
      Type.Object(
        {
          absenceTimeoutS: Type.Optional(Seconds(EDGE_DEFAULTS.presence.absenceTimeoutS, 'unseen this long by a healthy reader → departed')),
          snapshotIntervalS: Type.Optional(Seconds(EDGE_DEFAULTS.presence.snapshotIntervalS, 'inventory.snapshot every …')),
        },
        closed,
      ),
    ),
    outbox: Type.Optional(
      Type.Object(
        {
          maxBytes: Type.Optional(
            Type.Integer({ minimum: 1024, default: EDGE_DEFAULTS.outbox.maxBytes, description: 'stored events at most (bytes of JSON); oldest dropped beyond' }),
          ),
          maxAgeS: Type.Optional(Seconds(EDGE_DEFAULTS.outbox.maxAgeS, 'batches older than this are dropped, not sent')),
        },
        closed,
      ),
    ),
    readers: Type.Array(ReaderSchema, { maxItems: 64 }),
    localBroker: Type.Optional(LocalBrokerSchema),
    metrics: Type.Optional(MetricsSettingsSchema),
  },
  closed,
);
export type EdgeConfigInput = Static<typeof EdgeConfigSchema>;

export interface SimulatedSettingsConfig {
  readonly roundMs: number;
  readonly missProbability: number;
  readonly rssi?: number;
  readonly tags: Readonly<Record<string, readonly string[]>>;
}

/** One reader: a union on `driver`, each kind with its own settings block. */
export type ReaderConfig = SimulatedReaderConfig | LlrpReaderConfig | SerialReaderConfig;

interface ReaderConfigBase {
  readonly id: string;
  /** antenna number (as a JSON key) → zone */
  readonly antennas: Readonly<Record<string, string>>;
}

export interface SimulatedReaderConfig extends ReaderConfigBase {
  readonly driver: 'simulated';
  readonly simulated: SimulatedSettingsConfig;
}

export interface LlrpReaderConfig extends ReaderConfigBase {
  readonly driver: 'llrp';
  readonly llrp: LlrpSettingsConfig;
}

export interface SerialReaderConfig extends ReaderConfigBase {
  readonly driver: 'serial';
  readonly serial: SerialSettingsConfig;
}

/** The validated config with every default filled in; deep-frozen. */
export interface EdgeConfig {
  readonly gatewayId: string;
  readonly dataDir: string;
  readonly uplink: {
    readonly url: string;
    readonly username: string;
    readonly password?: string;
    readonly clientId: string;
    /** File paths, read when the agent starts. */
    readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  };
  readonly heartbeatIntervalS: number;
  readonly batch: { readonly maxEvents: number; readonly maxDelayMs: number };
  readonly presence: { readonly absenceTimeoutS: number; readonly snapshotIntervalS: number };
  readonly outbox: { readonly maxBytes: number; readonly maxAgeS: number };
  readonly readers: readonly ReaderConfig[];
  /** The gateway's MQTT broker for sensors, trackers and cameras; none when absent. */
  readonly localBroker?: LocalBrokerConfig;
  /** The HTTP endpoint of /metrics and /healthz; none when absent. */
  readonly metrics?: MetricsSettings;
}

const validator = Compile(EdgeConfigSchema);
const schemaErrors = (value: unknown) => listSchemaErrors(EdgeConfigSchema, validator, value);

/** Validates a parsed config file; returns it frozen with defaults, or throws PwError VALIDATION naming every bad key. */
export function checkEdgeConfig(value: unknown): EdgeConfig {
  const invalid = schemaErrors(value);
  if (invalid.length > 0) throw configError(invalid);
  const input = value as EdgeConfigInput;
  const semantic = semanticErrors(input);
  if (semantic.length > 0) throw configError(semantic);
  return deepFreeze(resolve(input));
}

/** Reads, parses and checks a config file; every failure is a PwError VALIDATION. */
export function loadEdgeConfig(path: string): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError([{ path: '', reason: `cannot read ${path}: ${(err as Error).message}` }], path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw configError([{ path: '', reason: `not JSON: ${(err as Error).message}` }], path);
  }
  try {
    return checkEdgeConfig(parsed);
  } catch (err) {
    if (err instanceof PwError) throw configError(err.errors, path);
    throw err;
  }
}

function configError(errors: FieldError[], file?: string): PwError {
  const where = file === undefined ? 'edge config' : `edge config ${file}`;
  return new PwError('VALIDATION', `invalid ${where}: ${describeErrors(errors)}`, errors);
}

/** Rules a JSON schema cannot say: unique ids, tags on configured antennas, timeouts longer than rounds. */
function semanticErrors(c: EdgeConfigInput): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const absenceMs = (c.presence?.absenceTimeoutS ?? EDGE_DEFAULTS.presence.absenceTimeoutS) * 1000;
  errors.push(...tlsErrors(c.uplink));
  errors.push(...localBrokerErrors(c.localBroker, { uplinkUrl: c.uplink.url, metricsPort: c.metrics?.port }));
  c.readers.forEach((r, i) => {
    const at = `/readers/${i}`;
    if (seen.has(r.id)) errors.push({ path: `${at}/id`, reason: `duplicate reader id "${r.id}"` });
    seen.add(r.id);
    for (const antenna of Object.keys(r.antennas)) {
      if (Number(antenna) > MAX_ANTENNA) errors.push({ path: `${at}/antennas/${antenna}`, reason: `antenna must be 1..${MAX_ANTENNA}` });
    }
    for (const antenna of Object.keys(r.simulated?.tags ?? {})) {
      if (r.antennas[antenna] === undefined) {
        errors.push({ path: `${at}/simulated/tags/${antenna}`, reason: `antenna ${antenna} is not in ${at}/antennas` });
      }
    }
    // Presence treats a gap between rounds longer than the absence timeout as a stalled reader, so
    // a round at least that long would never let a tag depart.
    const roundMs = r.simulated?.roundMs ?? EDGE_DEFAULTS.simulated.roundMs;
    if (r.driver === 'simulated' && roundMs >= absenceMs) {
      errors.push({ path: `${at}/simulated/roundMs`, reason: `must be shorter than presence.absenceTimeoutS (${absenceMs} ms)` });
    }
    errors.push(...llrpSettingsErrors(r, at, absenceMs));
    errors.push(...serialSettingsErrors(r, at, absenceMs));
  });
  return errors;
}

/** A client certificate needs its key (and the other way round), and TLS needs a TLS url. */
function tlsErrors(uplink: EdgeConfigInput['uplink']): FieldError[] {
  const { tls, url } = uplink;
  if (tls === undefined) return [];
  const errors: FieldError[] = [];
  if (!/^(mqtts|ssl|wss):/.test(url)) errors.push({ path: '/uplink/tls', reason: 'needs an mqtts://, ssl:// or wss:// uplink url' });
  if (tls.cert !== undefined && tls.key === undefined) errors.push({ path: '/uplink/tls/key', reason: 'required with /uplink/tls/cert' });
  if (tls.key !== undefined && tls.cert === undefined) errors.push({ path: '/uplink/tls/cert', reason: 'required with /uplink/tls/key' });
  return errors;
}

function resolve(c: EdgeConfigInput): EdgeConfig {
  const d = EDGE_DEFAULTS;
  return {
    gatewayId: c.gatewayId,
    dataDir: c.dataDir,
    uplink: {
      ...c.uplink,
      username: c.uplink.username ?? c.gatewayId,
      clientId: c.uplink.clientId ?? `pw-edge-${c.gatewayId}`,
      ...(c.uplink.tls === undefined ? {} : { tls: { ...c.uplink.tls } }),
    },
    heartbeatIntervalS: c.heartbeatIntervalS ?? d.heartbeatIntervalS,
    batch: {
      maxEvents: c.batch?.maxEvents ?? d.batch.maxEvents,
      maxDelayMs: c.batch?.maxDelayMs ?? d.batch.maxDelayMs,
    },
    presence: {
      absenceTimeoutS: c.presence?.absenceTimeoutS ?? d.presence.absenceTimeoutS,
      snapshotIntervalS: c.presence?.snapshotIntervalS ?? d.presence.snapshotIntervalS,
    },
    outbox: {
      maxBytes: c.outbox?.maxBytes ?? d.outbox.maxBytes,
      maxAgeS: c.outbox?.maxAgeS ?? d.outbox.maxAgeS,
    },
    ...(c.localBroker === undefined ? {} : { localBroker: resolveLocalBroker(c.localBroker) }),
    ...(c.metrics === undefined ? {} : { metrics: resolveMetricsSettings(c.metrics) }),
    readers: c.readers.map((r): ReaderConfig => {
      const base = { id: r.id, antennas: { ...r.antennas } };
      // semanticErrors has made sure an llrp reader has its llrp block
      if (r.driver === 'llrp') return { ...base, driver: 'llrp', llrp: resolveLlrpSettings(r.llrp as LlrpSettingsInput) };
      if (r.driver === 'serial') return { ...base, driver: 'serial', serial: resolveSerialSettings(r.serial as SerialSettingsInput) };
      return {
        ...base,
        driver: 'simulated',
        simulated: {
          roundMs: r.simulated?.roundMs ?? d.simulated.roundMs,
          missProbability: r.simulated?.missProbability ?? d.simulated.missProbability,
          ...(r.simulated?.rssi === undefined ? {} : { rssi: r.simulated.rssi }),
          tags: structuredClone(r.simulated?.tags ?? {}),
        },
      };
    }),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
