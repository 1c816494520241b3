/**
 * Real servers for the test suites (not used by production code): influxd, Mosquitto and PostgreSQL
 * on free loopback ports with temp data dirs, started by the suite itself — or, for InfluxDB and
 * PostgreSQL, the server .ci/run started (PW_TEST_INFLUX_URL, PW_TEST_DATABASE_URL), each test in its
 * own database.
 *
 * A missing server binary skips the suites that need it, with the reason in the suite's name; with
 * CI set it fails them instead, so CI can never pass by skipping.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';

export type Availability = { ok: true; bin: string } | { ok: false; reason: string };

const APT_PACKAGES: Record<string, string> = { influxd: 'influxdb', postgres: 'postgresql' };

/** The executable named by `envVar`, or found on PATH or in `dirs`; in CI a missing one throws. */
export function findServer(name: string, envVar: string, dirs: string[] = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']): Availability {
  const explicit = process.env[envVar];
  const candidates = explicit !== undefined && explicit !== '' ? [explicit] : [...(process.env.PATH ?? '').split(delimiter), ...dirs].map((d) => join(d, name));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return { ok: true, bin: path };
    } catch {
      // not this one
    }
  }
  const reason = explicit
    ? `${envVar}=${explicit} is not an executable`
    : `${name} not found on PATH (install it, e.g. apt-get install ${APT_PACKAGES[name] ?? name}, or set ${envVar})`;
  if (process.env.CI) throw new Error(`CI is set, so the suites that need ${name} must run: ${reason}`);
  return { ok: false, reason };
}

/** A suite title that says why it was skipped. */
export function suiteTitle(title: string, server: Availability | { ok: true }): string {
  return server.ok ? title : `${title} — SKIPPED: ${server.reason}`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The OS user a server runs as, when it must not be the test's own (PostgreSQL refuses root). */
export interface RunAs {
  uid?: number;
  gid?: number;
}

export interface ServerProcess {
  /** Where the server listens (no credentials). */
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); its data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
  /** Sends the running server a signal (SIGHUP: Mosquitto rereads its password and ACL files). */
  signal(sig: NodeJS.Signals): void;
  log(): string;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, child: () => ChildProcess | null, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const c = child();
    if (c === null || c.exitCode !== null || c.signalCode !== null) throw new Error(`${what} exited while starting:\n${log()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms:\n${log()}`);
}

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

function supervise(what: string, bin: string, args: string[], dir: string, port: number, ready: () => Promise<boolean>, as: RunAs = {}): ServerProcess {
  const logFile = join(dir, `${what}.log`);
  let child: ChildProcess | null = null;
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const stop = async () => {
    const c = child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    process.removeListener('exit', orphanGuard);
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  // A test process that dies without its afterAll must not leave a server running.
  const orphanGuard = () => child?.kill('SIGKILL');
  const start = async () => {
    const fd = openSync(logFile, 'a');
    child = spawn(bin, args, { cwd: dir, stdio: ['ignore', fd, fd], ...as });
    closeSync(fd);
    process.once('exit', orphanGuard);
    await waitUntil(what, ready, () => child, log);
  };
  return {
    url: '',
    port,
    dir,
    stop,
    start,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    signal: (sig) => {
      child?.kill(sig);
    },
    log,
  };
}

/** influxd 1.x with its config in a temp dir; ready in about a second. */
export async function startInfluxd(bin: string): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-influxd-'));
  const [port, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '[logging]',
      '  level = "warn"',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const server = supervise('influxd', bin, ['-config', conf], dir, port, async () => (await fetch(`${url}/ping`)).status === 204);
  await server.start();
  return { ...server, url };
}

/** A database URL of its own on an InfluxDB base URL, for one test. */
export function influxDatabaseUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/pw_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

const REPO_ROOT = new URL('../../', import.meta.url);

/**
 * Mosquitto with the shipped deploy/mosquitto/mosquitto.conf, its listener moved to a free loopback
 * port and its files (passwd, acl, persistence) into a temp dir. As root it stays root: the temp dir
 * is private to this user, and dropping to `mosquitto` would lock the broker out of it.
 */
export async function startMosquitto(bin: string): Promise<ServerProcess & { passwordFile: string; aclFile: string; reload(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-mosquitto-'));
  const port = await freePort();
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  for (const f of [passwordFile, aclFile]) writeFileSync(f, '', { mode: 0o640 });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, renderMosquittoConf(readFileSync(new URL('deploy/mosquitto/mosquitto.conf', REPO_ROOT), 'utf8'), { port, dir, passwordFile, aclFile }));
  const server = supervise('mosquitto', bin, ['-c', conf], dir, port, () => tcpOpen(port));
  await server.start();
  return { ...server, url: `mqtt://127.0.0.1:${port}`, passwordFile, aclFile, reload: () => server.signal('SIGHUP') };
}

export function renderMosquittoConf(template: string, at: { port: number; dir: string; passwordFile: string; aclFile: string }): string {
  const replaced = template
    .split('\n')
    .map((line) => {
      if (/^listener\s/.test(line)) return `listener ${at.port} 127.0.0.1`;
      if (/^password_file\s/.test(line)) return `password_file ${at.passwordFile}`;
      if (/^acl_file\s/.test(line)) return `acl_file ${at.aclFile}`;
      if (/^persistence_location\s/.test(line)) return `persistence_location ${at.dir}/`;
      return line;
    })
    .join('\n');
  const root = process.getuid?.() === 0 ? 'user root\n' : '';
  return `${replaced}\n${root}`;
}

/** Where Debian's postgresql packages put the server binaries, newest major version first. */
function postgresBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

/** The `postgres` server binary (initdb and pg_isready are its siblings); PW_TEST_POSTGRES_BIN names one. */
export function findPostgres(): Availability {
  return findServer('postgres', 'PW_TEST_POSTGRES_BIN', [...postgresBinDirs(), '/usr/lib/postgresql/bin', '/usr/local/pgsql/bin']);
}

/** PostgreSQL will not run as root: as root the cluster belongs to the `postgres` OS user. */
function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root, and there is no `postgres` OS user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A private PostgreSQL cluster (initdb in a temp dir, trust auth for the `postgres` role, socket in the
 * same dir, loopback only). fsync is off: a test cluster trades crash safety for fast CREATE DATABASE.
 * `url` has no database: add one of your own (postgresDatabaseName) per test or suite.
 */
export async function startPostgres(bin: string): Promise<ServerProcess> {
  const as = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'pw-postgres-'));
  if (as.uid !== undefined && as.gid !== undefined) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  // Siblings of the real binary: /usr/local/bin/postgres may be a symlink into the version's bin dir.
  const binDir = dirname(realpathSync(bin));
  execFileSync(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...as,
  });
  const port = await freePort();
  const args = ['-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const ready = () =>
    new Promise<boolean>((resolve) => {
      execFile(join(binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], (err) => resolve(err === null));
    });
  const server = supervise('postgres', bin, args, dir, port, ready, as);
  await server.start();
  return { ...server, url: `postgres://postgres@127.0.0.1:${port}` };
}

/** A fresh, valid database name for one test or suite. */
export function postgresDatabaseName(): string {
  return `pw_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}
