/**
 * Central-side configuration: one table of keys, each with a default, an environment variable and a
 * flag. Sources stack as defaults < config file < environment < flags. Validated once at start, then
 * frozen; a wrong key or value stops the program with a message naming it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { isId, isPwError, redactUrl, signingKeyFromPem } from '@pledgewatch/common';
import { parseInfluxUrl } from '@pledgewatch/store';

type Kind = 'string' | 'port' | 'url' | 'level' | 'seconds' | 'cidrs' | 'roles' | 'commodity-seconds' | 'workers';

interface KeySpec {
  env: string;
  flag: string;
  kind: Kind;
  default?: string | number;
  description: string;
}

/** The most ingest worker threads (shards) a process runs: ingest's own limit, MAX_INGEST_SHARDS. */
export const MAX_INGEST_WORKERS = 32;

export const CENTRAL_KEYS = {
  dataDir: { env: 'PW_DATA_DIR', flag: '--data-dir', kind: 'string', default: './data', description: 'where SQLite state, series and keys live' },
  httpHost: { env: 'PW_HTTP_HOST', flag: '--http-host', kind: 'string', default: '127.0.0.1', description: 'HTTP API bind address' },
  httpPort: { env: 'PW_HTTP_PORT', flag: '--http-port', kind: 'port', default: 8080, description: 'HTTP API port (0 = any free port)' },
  mqttHost: { env: 'PW_MQTT_HOST', flag: '--mqtt-host', kind: 'string', default: '127.0.0.1', description: 'embedded MQTT broker bind address' },
  mqttPort: { env: 'PW_MQTT_PORT', flag: '--mqtt-port', kind: 'port', default: 1883, description: 'embedded MQTT broker port (0 = any free port)' },
  mqttUrl: { env: 'PW_MQTT_URL', flag: '--mqtt-url', kind: 'url', description: 'use this external broker instead of the embedded one' },
  influxUrl: { env: 'PW_INFLUX_URL', flag: '--influx-url', kind: 'url', description: 'use InfluxDB for time series: http(s)://user:password@host:8086/database' },
  databaseUrl: { env: 'PW_DATABASE_URL', flag: '--database-url', kind: 'url', description: 'use PostgreSQL for state: postgres://user:password@host:5432/database' },
  roles: { env: 'PW_ROLES', flag: '--roles', kind: 'roles', default: 'all', description: 'what `start` runs: all, or some of api, ingest, broker, webhooks (comma-separated)' },
  ingestWorkers: { env: 'PW_INGEST_WORKERS', flag: '--ingest-workers', kind: 'workers', default: 'auto', description: `ingest's worker threads, each serving a share of the sites: 1-${MAX_INGEST_WORKERS}, or auto (2 on the embedded broker with 2+ cores, else 1)` },
  signingKeyFile: { env: 'PW_SIGNING_KEY_FILE', flag: '--signing-key-file', kind: 'string', description: 'Ed25519 private key (PKCS#8 PEM) that signs certificates, created mode 0600 if missing; default signing-key.pem in the data dir' },
  mosquittoPasswordFile: { env: 'PW_MOSQUITTO_PASSWORD_FILE', flag: '--mosquitto-password-file', kind: 'string', description: 'Mosquitto password file that account creation maintains' },
  mosquittoAclFile: { env: 'PW_MOSQUITTO_ACL_FILE', flag: '--mosquitto-acl-file', kind: 'string', description: 'Mosquitto ACL file that account creation maintains' },
  webhookAllow: { env: 'PW_WEBHOOK_ALLOW', flag: '--webhook-allow', kind: 'cidrs', default: '', description: 'internal addresses webhooks may reach anyway: comma-separated IPs or CIDR blocks' },
  logLevel: { env: 'PW_LOG_LEVEL', flag: '--log-level', kind: 'level', default: 'info', description: 'fatal, error, warn, info, debug or trace' },
  maxPriceAgeS: { env: 'PW_MAX_PRICE_AGE_S', flag: '--max-price-age-s', kind: 'seconds', default: 86_400, description: 'a price older than this is stale' },
  maxPriceAgeByCommodity: { env: 'PW_MAX_PRICE_AGE_BY_COMMODITY', flag: '--max-price-age-by-commodity', kind: 'commodity-seconds', default: '', description: 'per commodity, its own maximum price age: COMMODITY=SECONDS,… (a JSON object in the config file)' },
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
  /** The roles `start` runs, resolved (never 'all'): see ROLES and centralRoles(). */
  readonly roles: string;
  /** Ingest's worker threads, one shard of the sites each; resolved (never 'auto'): see resolveIngestWorkers(). */
  readonly ingestWorkers: number;
  /** The certificate signing key; absent: signing-key.pem in the data dir (see signingKeyPath). */
  readonly signingKeyFile?: string;
  readonly mosquittoPasswordFile?: string;
  readonly mosquittoAclFile?: string;
  /** Comma-separated IPs or CIDR blocks (see webhooks' AddressGuard). */
  readonly webhookAllow: string;
  readonly logLevel: string;
  readonly maxPriceAgeS: number;
  /** Per-commodity maximum price ages as COMMODITY=SECONDS,… (canonical; see maxPriceAgesByCommodityS). */
  readonly maxPriceAgeByCommodity: string;
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

/**
 * The parts of the central side a process may run (PW_ROLES). `all` is every one that applies: the
 * embedded broker only without PW_MQTT_URL.
 */
export const ROLES = ['api', 'ingest', 'broker', 'webhooks'] as const;
export type Role = (typeof ROLES)[number];

const CIDR = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]+)(\/[0-9]{1,3})?$/;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseValue(kind: Kind, raw: unknown): { ok: true; value: string | number } | { ok: false; reason: string } {
  const text = typeof raw === 'number' ? String(raw) : kind === 'commodity-seconds' && isPlainObject(raw) ? commodityText(raw) : raw;
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
    case 'roles': {
      const names = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
      if (names.length === 1 && names[0] === 'all') return { ok: true, value: 'all' };
      const bad = names.filter((n) => !(ROLES as readonly string[]).includes(n));
      if (bad.length > 0 || names.length === 0) return { ok: false, reason: `"${text}" is not "all" or a list of ${ROLES.join(', ')}` };
      return { ok: true, value: ROLES.filter((r) => names.includes(r)).join(',') };
    }
    case 'commodity-seconds': {
      const parsed = parseCommoditySeconds(text);
      return typeof parsed === 'string' ? { ok: false, reason: parsed } : { ok: true, value: commodityText(parsed) };
    }
    case 'url':
      return URL.canParse(text) ? { ok: true, value: text } : { ok: false, reason: `"${redactUrl(text)}" is not a URL` };
    case 'workers': {
      if (text.trim() === 'auto') return { ok: true, value: 'auto' };
      const n = Number(text);
      return Number.isInteger(n) && n >= 1 && n <= MAX_INGEST_WORKERS
        ? { ok: true, value: n }
        : { ok: false, reason: `"${text}" is not auto or a whole number of worker threads from 1 to ${MAX_INGEST_WORKERS}` };
    }
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
  if (typeof values.roles === 'string') problems.push(...resolveRoles(values));
  if (values.ingestWorkers === 'auto') values.ingestWorkers = autoIngestWorkers(values.mqttUrl !== undefined, availableParallelism());
  if (typeof values.signingKeyFile === 'string') {
    const problem = signingKeyFileProblem(values.signingKeyFile);
    if (problem !== null) problems.push(`${CENTRAL_KEYS.signingKeyFile.env}: ${problem}`);
  }
  if ((values.mosquittoPasswordFile === undefined) !== (values.mosquittoAclFile === undefined)) {
    problems.push(`${CENTRAL_KEYS.mosquittoPasswordFile.env} and ${CENTRAL_KEYS.mosquittoAclFile.env} go together: set both or neither`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as unknown as CentralConfig;
}

/** The roles the process runs. */
export function centralRoles(config: Pick<CentralConfig, 'roles'>): ReadonlySet<Role> {
  return new Set(config.roles.split(',') as Role[]);
}

/**
 * Expands `all` in values.roles and checks that the roles fit together and with the other keys;
 * returns the problems, naming PW_ROLES.
 */
function resolveRoles(values: Record<string, string | number>): string[] {
  const external = values.mqttUrl !== undefined;
  const every = ROLES.filter((r) => r !== 'broker' || !external);
  const roles = new Set(values.roles === 'all' ? every : (String(values.roles).split(',') as Role[]));
  values.roles = ROLES.filter((r) => roles.has(r)).join(',');
  const key = CENTRAL_KEYS.roles.env;
  const problems: string[] = [];
  if (roles.has('broker') && external) {
    problems.push(`${key}: broker is the embedded MQTT broker; with ${CENTRAL_KEYS.mqttUrl.env} (an external broker) leave it out`);
  }
  if (roles.has('broker') && !roles.has('ingest')) {
    problems.push(`${key}: broker needs ingest in the same process (the embedded broker admits ingest with a secret of the process)`);
  }
  if (roles.has('ingest') && !roles.has('broker') && !external) {
    problems.push(`${key}: ingest without broker needs ${CENTRAL_KEYS.mqttUrl.env}, the broker to read from`);
  }
  if (values.databaseUrl === undefined && every.some((r) => !roles.has(r))) {
    problems.push(
      `${key}: running only some roles (${values.roles || 'none'}) needs ${CENTRAL_KEYS.databaseUrl.env}: ` +
        'a SQLite state file belongs to one process, which runs them all',
    );
  }
  return problems;
}

/**
 * `ingestWorkers: auto`. On the embedded broker with two cores or more, 2: with one worker the second
 * core is mostly idle (the broker's thread is not busy), and two shards over several sites did 33–59 %
 * more events/s on two cores while that core was free (README, Benchmarks); more threads than cores
 * only contend. On an external broker, 1: every further shard logs in with an account of its own
 * (`<user>-s1`, …; README, Production backends) that the operator creates first.
 */
export function autoIngestWorkers(externalBroker: boolean, cores: number): number {
  return !externalBroker && cores >= 2 ? 2 : 1;
}

/** The per-commodity maximum price ages of a loaded configuration, commodity → seconds. */
export function maxPriceAgesByCommodityS(config: Pick<CentralConfig, 'maxPriceAgeByCommodity'>): Record<string, number> {
  const parsed = config.maxPriceAgeByCommodity === '' ? {} : parseCommoditySeconds(config.maxPriceAgeByCommodity);
  if (typeof parsed === 'string') throw new ConfigError([`${CENTRAL_KEYS.maxPriceAgeByCommodity.env}: ${parsed}`]);
  return parsed;
}

/** COMMODITY=SECONDS,… into a map, or the reason it is not one. */
function parseCommoditySeconds(text: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [commodity = '', seconds = '', ...rest] = entry.split('=').map((p) => p.trim());
    const n = Number(seconds);
    if (rest.length > 0 || !isId(commodity) || seconds === '' || !Number.isFinite(n) || n <= 0) {
      return `"${entry}" is not COMMODITY=SECONDS (a commodity id and a positive number of seconds)`;
    }
    if (Object.hasOwn(out, commodity)) return `${commodity} is given twice`;
    out[commodity] = n;
  }
  return out;
}

function commodityText(map: Record<string, unknown>): string {
  return Object.entries(map)
    .map(([commodity, seconds]) => `${commodity}=${String(seconds)}`)
    .join(',');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What is wrong with a signing key file, or null: an existing file must hold an Ed25519 private key; a
 * missing one is created at first start, so its directory must exist.
 */
function signingKeyFileProblem(path: string): string | null {
  if (!existsSync(path)) {
    const dir = dirname(path);
    return existsSync(dir) && statSync(dir).isDirectory() ? null : `directory ${dir} does not exist (the key is created there at first start)`;
  }
  try {
    signingKeyFromPem(readFileSync(path, 'utf8'), path);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Where the certificate signing key lives: PW_SIGNING_KEY_FILE, else signing-key.pem in the data dir. */
export function signingKeyPath(config: Pick<CentralConfig, 'dataDir' | 'signingKeyFile'>): string {
  return config.signingKeyFile ?? join(config.dataDir, 'signing-key.pem');
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
