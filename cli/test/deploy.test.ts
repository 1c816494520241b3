/**
 * docker-compose.yml and the Dockerfile cannot run on the build machines; this keeps them honest
 * against the code: every workspace is in the image, every PW_* setting and flag the stack uses
 * exists, every file it mounts is there, every secret it needs is in the example env file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CENTRAL_KEYS, centralRoles, loadCentralConfig, type Role } from '../src/config.ts';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const read = (path: string) => readFileSync(root(path), 'utf8');
const compose = read('docker-compose.yml');
const help = (...args: string[]) => spawnSync(process.execPath, [root('cli/bin/pledgewatch.js'), ...args, '--help'], { encoding: 'utf8' }).stdout;

describe('deployment files', () => {
  it('the image installs every workspace', () => {
    const { workspaces } = JSON.parse(read('package.json')) as { workspaces: string[] };
    const dockerfile = read('Dockerfile');
    for (const ws of workspaces) expect(dockerfile, `Dockerfile misses ${ws}/package.json`).toContain(`COPY ${ws}/package.json ${ws}/`);
  });

  it('the stack sets only configuration keys that exist, and its secrets are in the example env file', () => {
    const known = new Set<string>(Object.values(CENTRAL_KEYS).map((k) => k.env));
    const secrets = [...compose.matchAll(/\$\{(PW_[A-Z_]+):\?/g)].map((m) => m[1] as string);
    const settings = [...compose.matchAll(/^\s+(PW_[A-Z_]+):/gm)].map((m) => m[1] as string);
    expect(settings.length).toBeGreaterThan(5);
    for (const name of settings) expect(known.has(name) || secrets.includes(name), `${name} is neither a config key nor a secret`).toBe(true);
    const example = read('deploy/compose.env.example');
    for (const name of new Set(secrets)) expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('mounts files that exist, and uses commands and flags the CLI has', () => {
    for (const [, path] of compose.matchAll(/- \.\/([^:\s]+):/g)) expect(existsSync(root(path as string)), path).toBe(true);
    expect(help('simulate')).toContain('--setup-only');
    expect(help('broker-user', 'create')).toMatch(/--role <role>[\s\S]*--password-stdin/);
    expect(help('gateway', 'create')).toContain('--mosquitto-password-file');
    expect(help('start')).toContain('--roles <value>');
  });

  it('splits the central side into roles that fit the stack: one ingest, the API, webhook delivery, on PostgreSQL', () => {
    const starts = [...compose.matchAll(/command: \["start"(?:, "--roles", "([^"]+)")?\]/g)].map((m) => m[1] ?? 'all');
    expect(starts.length).toBeGreaterThan(1);
    // As the services get it: PostgreSQL state (shared by every process) and Mosquitto (an external broker).
    const env = { PW_DATABASE_URL: 'postgres://pledgewatch:x@postgres:5432/pledgewatch', PW_MQTT_URL: 'mqtt://pw-ingest:x@mosquitto:1883' };
    const roles = starts.map((r) => centralRoles(loadCentralConfig({ env, flags: { roles: r } })));
    expect(roles.filter((r) => r.has('ingest')), 'services running ingest').toHaveLength(1);
    const covered = new Set<Role>(roles.flatMap((r) => [...r]));
    expect([...covered].sort()).toEqual(['api', 'ingest', 'webhooks']);
    // Every process that opens the state store points at the postgres service, which has a health check and a volume.
    for (const [, url] of compose.matchAll(/PW_DATABASE_URL: (\S+)/g)) expect(url).toMatch(/^postgres:\/\/pledgewatch:\$\{PW_POSTGRES_PASSWORD\}@postgres:5432\/pledgewatch$/);
    expect(compose).toMatch(/^ {2}postgres:\n(?: {4}.*\n|\s*\n)*? {4}healthcheck:\n {6}test: \["CMD-SHELL", "pg_isready/m);
    expect(compose).toMatch(/- postgres-data:\/var\/lib\/postgresql\/data/);
  });
});
