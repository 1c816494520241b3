/**
 * Central-side configuration: one table of keys, each with a default, an environment variable and a
 * flag. Sources stack as defaults < config file < environment < flags. Validated once at start, then
 * frozen; a wrong key or value stops the program with a message naming it.
 */
import { readFileSync } from 'node:fs';
import { isPwError, redactUrl } from '@pledgewatch/common';
import { parseInfluxUrl } from '@pledgewatch/store';

type Kind = 'string' | 'port' | 'url' | 'level' | 'seconds' | 'cidrs';

interface KeySpec {
  env: string;
  flag: string;
  kind: Kind;
  default?: string | number;
  description: string;
}

export const CENTRAL_KEYS = {
  dataDir: { env: 'PW_DATA_DIR', flag: '--data-dir', kind: 'string', default: './data', description: 'where SQLite state, series and keys live' },
  httpHost: { env: 'PW_HTTP_HOST', flag: '--http-host', kind: 'string', default: '127.0.0.1', description: 'HTTP API bind address' },
  httpPort: { env: 'PW_HTTP_PORT', flag: '--http-port', kind: 'port', default: 8080, description: 'HTTP API port (0 = any free port)' },
  mqttHost: { env: 'PW_MQTT_HOST', flag: '--mqtt-host', kind: 'string', default: '127.0.0.1', description: 'embedded MQTT broker bind address' },
  mqttPort: { env: 'PW_MQTT_PORT', flag: '--mqtt-port', kind: 'port', default: 1883, description: 'embedded MQTT broker port (0 = any free port)' },
  mqttUrl: { env: 'PW_MQTT_URL', flag: '--mqtt-url', kind: 'url', description: 'use this external broker instead of the embedded one' },
  influxUrl: { env: 'PW_INFLUX_URL', flag: '--influx-url', kind: 'url', description: 'use InfluxDB for time series: http(s)://user:password@host:8086/database' },
  databaseUrl: { env: 'PW_DATABASE_URL', flag: '--database-url', kind: 'url', description: 'use PostgreSQL for state: postgres://user:password@host:5432/database' },
  mosquittoPasswordFile: { env: 'PW_MOSQUITTO_PASSWORD_FILE', flag: '--mosquitto-password-file', kind: 'string', description: 'Mosquitto password file that account creation maintains' },
  mosquittoAclFile: { env: 'PW_MOSQUITTO_ACL_FILE', flag: '--mosquitto-acl-file', kind: 'string', description: 'Mosquitto ACL file that account creation maintains' },
  webhookAllow: { env: 'PW_WEBHOOK_ALLOW', flag: '--webhook-allow', kind: 'cidrs', default: '', description: 'internal addresses webhooks may reach anyway: comma-separated IPs or CIDR blocks' },
  logLevel: { env: 'PW_LOG_LEVEL', flag: '--log-level', kind: 'level', default: 'info', description: 'fatal, error, warn, info, debug or trace' },
  maxPriceAgeS: { env: 'PW_MAX_PRICE_AGE_S', flag: '--max-price-age-s', kind: 'seconds', default: 86_400, description: 'a price older than this is stale' },
  alertConfirmationDelayS: { env: 'PW_ALERT_CONFIRMATION_DELAY_S', flag: '--alert-confirmation-delay-s', kind: 'seconds', default: 120, description: 'a quantity loss must last this long to be an alert (a pledge may set its own)' },
  alertHoldS: { env: 'PW_ALERT_HOLD_S', flag: '--alert-hold-s', kind: 'seconds', default: 300, description: 'a condition must stay clear this long before its alert resolves' },
  damageHoldS: { env: 'PW_DAMAGE_HOLD_S', flag: '--damage-hold-s', kind: 'seconds', default: 600, description: 'a reading outside the storage spec this long is DAMAGE' },
  gatewayHeartbeatS: { env: 'PW_GATEWAY_HEARTBEAT_S', flag: '--gateway-heartbeat-s', kind: 'seconds', default: 30, description: 'gateway status cadence assumed until observed; 3 missed = MONITORING_GAP' },
} as const satisfies Record<string, KeySpec>;

export type CentralKey = keyof typeof CENTRAL_KEYS;

export interface CentralConfig {
  readonly dataDir: string;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly mqttUrl?: string;
  readonly influxUrl?: string;
  readonly databaseUrl?: string;
  readonly mosquittoPasswordFile?: string;
  readonly mosquittoAclFile?: string;
  /** Comma-separated IPs or CIDR blocks (see webhooks' AddressGuard). */
  readonly webhookAllow: string;
  readonly logLevel: string;
  readonly maxPriceAgeS: number;
  readonly alertConfirmationDelayS: number;
  readonly alertHoldS: number;
  readonly damageHoldS: number;
  readonly gatewayHeartbeatS: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const CIDR = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]+)(\/[0-9]{1,3})?$/;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseValue(kind: Kind, raw: unknown): { ok: true; value: string | number } | { ok: false; reason: string } {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, reason: 'must be a non-empty value' };
  switch (kind) {
    case 'string':
      return { ok: true, value: text };
    case 'port': {
      const n = Number(text);
      return Number.isInteger(n) && n >= 0 && n <= 65535 ? { ok: true, value: n } : { ok: false, reason: `"${text}" is not a port (0-65535)` };
    }
    case 'seconds': {
      const n = Number(text);
      return Number.isFinite(n) && n > 0 ? { ok: true, value: n } : { ok: false, reason: `"${text}" is not a positive number of seconds` };
    }
    case 'level':
      return LEVELS.includes(text) ? { ok: true, value: text } : { ok: false, reason: `"${text}" is not one of ${LEVELS.join(', ')}` };
    case 'cidrs': {
      const bad = text.split(',').map((e) => e.trim()).filter((e) => e !== '' && !CIDR.test(e));
      return bad.length === 0 ? { ok: true, value: text } : { ok: false, reason: `"${bad.join(', ')}" is not an IP address or CIDR block` };
    }
    case 'url':
      return URL.canParse(text) ? { ok: true, value: text } : { ok: false, reason: `"${redactUrl(text)}" is not a URL` };
  }
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by config key, as commander parsed them. */
  flags?: Partial<Record<CentralKey, unknown>>;
}

export function loadCentralConfig(sources: ConfigSources): CentralConfig {
  const problems: string[] = [];
  const values: Record<string, string | number> = {};
  const set = (key: CentralKey, raw: unknown, where: string) => {
    const parsed = parseValue(CENTRAL_KEYS[key].kind, raw);
    if (parsed.ok) values[key] = parsed.value;
    else problems.push(`${where}: ${parsed.reason}`);
  };
  for (const [key, spec] of Object.entries(CENTRAL_KEYS)) {
    if ('default' in spec) values[key] = spec.default;
  }
  if (sources.file !== undefined) {
    for (const [key, raw] of Object.entries(readConfigFile(sources.file))) {
      if (key in CENTRAL_KEYS) set(key as CentralKey, raw, `${sources.file}: key "${key}"`);
      else problems.push(`${sources.file}: unknown key "${key}" (known: ${Object.keys(CENTRAL_KEYS).join(', ')})`);
    }
  }
  const env = sources.env ?? {};
  for (const [key, spec] of Object.entries(CENTRAL_KEYS)) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') set(key as CentralKey, raw, `environment ${spec.env}`);
  }
  for (const [key, raw] of Object.entries(sources.flags ?? {})) {
    if (raw !== undefined) set(key as CentralKey, raw, `flag ${CENTRAL_KEYS[key as CentralKey].flag}`);
  }
  if (typeof values.databaseUrl === 'string' && URL.canParse(values.databaseUrl) && !/^postgres(ql)?:$/.test(new URL(values.databaseUrl).protocol)) {
    problems.push(`${CENTRAL_KEYS.databaseUrl.env}: must be a postgres:// or postgresql:// URL`);
  }
  if (typeof values.influxUrl === 'string') {
    try {
      parseInfluxUrl(values.influxUrl);
    } catch (err) {
      if (!isPwError(err)) throw err;
      problems.push(`${CENTRAL_KEYS.influxUrl.env}: ${err.message}`);
    }
  }
  if ((values.mosquittoPasswordFile === undefined) !== (values.mosquittoAclFile === undefined)) {
    problems.push(`${CENTRAL_KEYS.mosquittoPasswordFile.env} and ${CENTRAL_KEYS.mosquittoAclFile.env} go together: set both or neither`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as unknown as CentralConfig;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read (${(err as Error).message})`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${path}: not valid JSON (${(err as Error).message})`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`${path}: must hold a JSON object of configuration keys`]);
  }
  return parsed as Record<string, unknown>;
}

/** The configuration reference, as printed by `--help` and copied into the README. */
export function describeKeys(): string {
  const entries = Object.entries(CENTRAL_KEYS);
  const width = (pick: (key: string, s: KeySpec) => string) => Math.max(...entries.map(([k, s]) => pick(k, s).length));
  const [k, e, f] = [width((key) => key), width((_, s) => s.env), width((_, s) => s.flag)];
  return entries
    .map(([key, s]) => `  ${key.padEnd(k)} ${s.env.padEnd(e)} ${s.flag.padEnd(f)} ${'default' in s ? String(s.default).padEnd(10) : '(none)'.padEnd(10)} ${s.description}`)
    .join('\n');
}
