import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { bundleEdge, GATEWAY_NODE_FLAGS } from '../src/bundle.ts';

// Inside the checkout, so the native addons left out of the bundle resolve from its node_modules.
const out = fileURLToPath(new URL(`../../dist/test-edge-${process.pid}.mjs`, import.meta.url));
const badConfig = `${out}.bad.json`;
afterAll(() => {
  rmSync(out, { force: true });
  rmSync(badConfig, { force: true });
});

it('builds the gateway bundle, which runs under plain node with the unit flags', async () => {
  await bundleEdge(fileURLToPath(new URL('../src/main.ts', import.meta.url)), out);
  const run = (...args: string[]) => spawnSync(process.execPath, [...GATEWAY_NODE_FLAGS, out, ...args], { encoding: 'utf8', timeout: 30_000 });
  const example = fileURLToPath(new URL('../examples/edge.example.json', import.meta.url));
  const ok = run('check-config', example);
  expect(ok.stdout).toContain('OK (gateway gw-shanghai-1');
  expect(ok.status).toBe(0);
  writeFileSync(badConfig, JSON.stringify({ gatewayId: 'gw 1', colour: 'red' }));
  const bad = run('check-config', badConfig);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/\/colour/);
  expect(run().status).toBe(2);
});
