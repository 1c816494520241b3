/** The `pledgewatch` command as an operator runs it: real processes, real exit codes, real signals. */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir, waitFor, type TempDir } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/pledgewatch.js', import.meta.url));
let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-cli-');
});
afterEach(() => dir.remove());

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lastLine: r.stdout.trim().split('\n').at(-1) ?? '' };
}

describe('pledgewatch CLI', () => {
  it('starts the central side, takes keys and gateways from the CLI, and drains on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dir.path, '--http-port', '0', '--mqtt-port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const apiUrl = await waitFor('the API URL in the start log', () => /"apiUrl":"([^"]+)"/.exec(out)?.[1], 20_000);
      const key = run(['apikey', 'create', '--tenant', 'bank-cli', '--data-dir', dir.path]);
      expect(key.code).toBe(0);
      expect(key.lastLine).toMatch(/^pw_[A-Za-z0-9_-]{43}$/);
      const gw = run(['gateway', 'create', 'gw-cli', '--site', 'site-cli', '--data-dir', dir.path]);
      expect(gw.code).toBe(0);
      expect(gw.lastLine.length).toBeGreaterThanOrEqual(24);
      expect(run(['gateway', 'create', 'gw-cli', '--site', 'site-cli', '--data-dir', dir.path]).stderr).toMatch(/already exists/);

      expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${apiUrl}/v1/pledges`)).status).toBe(401);
      const list = await fetch(`${apiUrl}/v1/pledges`, { headers: { authorization: `Bearer ${key.lastLine}` } });
      expect(list.status).toBe(200);
      await waitFor('ready', async () => (await fetch(`${apiUrl}/readyz`)).status === 200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toContain('central side stopped');
  });

  it('stops at start with a message naming a wrong flag, environment variable or file key', () => {
    const flag = run(['start', '--http-port', 'eighty', '--data-dir', dir.path]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('flag --http-port: "eighty" is not a port');

    const env = run(['start', '--data-dir', dir.path], { PW_LOG_LEVEL: 'loud' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('environment PW_LOG_LEVEL');

    const workers = run(['start', '--data-dir', dir.path], { PW_INGEST_WORKERS: '0' });
    expect(workers.code).toBe(2);
    expect(workers.stderr).toContain('environment PW_INGEST_WORKERS: "0" is not auto or a whole number of worker threads from 1 to 32');

    writeFileSync(dir.file('pw.json'), JSON.stringify({ httpPort: 8080, htpPort: 1 }));
    const file = run(['start', '--config', dir.file('pw.json')]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('unknown key "htpPort"');
  });

  it('checks an edge config and names every wrong key', () => {
    writeFileSync(dir.file('edge.json'), JSON.stringify({ gatewayId: 'gw 1', dataDir: 'x', uplink: { url: 'mqtt://h' }, readers: [], colour: 'red' }));
    const bad = run(['edge', 'check-config', dir.file('edge.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/gatewayId');
    expect(bad.stderr).toContain('/colour');
    const example = fileURLToPath(new URL('../../edge-agent/examples/edge.example.json', import.meta.url));
    const good = run(['edge', 'check-config', example]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('OK');
  });

  it('prints help a technician can follow', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['start', 'edge', 'simulate', 'demo', 'apikey', 'gateway', 'feed', 'verify-audit', 'verify-certificate']) expect(help.stdout).toContain(cmd);
    expect(run(['start', '--help']).stdout).toContain('PW_MQTT_URL');
  });
});
