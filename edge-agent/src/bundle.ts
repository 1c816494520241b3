/**
 * The gateway build: one ES module with the agent and its pure-JS dependencies, run by plain node (no
 * TypeScript loader in memory). Native addons stay outside and load from node_modules at run time.
 */
import { build } from 'esbuild';

/** V8 settings the systemd unit and the bench run the bundle with: a small young generation and no
 * optimising-compiler threads, for a gateway's memory (the agent needs little CPU). */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode', '--v8-pool-size=1'] as const;

export async function bundleEdge(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'serialport', '@serialport/*'],
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __pwCreateRequire } from 'node:module'; const require = __pwCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
}
