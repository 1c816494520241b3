/** `pledgewatch` as a child process, the way an operator or a supervisor runs it. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@pledgewatch/common/testing';

export const BIN = fileURLToPath(new URL('../bin/pledgewatch.js', import.meta.url));

export interface StartedProcess {
  /** The HTTP API (or, without the api role, the operations endpoints) from the start log. */
  apiUrl: string;
  /** Everything it printed so far, stdout then stderr. */
  output(): string;
  /** SIGTERM, then its exit code once it has drained. */
  stop(): Promise<number | null>;
}

/** Runs `pledgewatch start ARGS` and waits until it has logged its API URL (or fails with what it said). */
export async function spawnStart(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<StartedProcess> {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const output = () => `${out}${err}`;
  try {
    const apiUrl = await Promise.race([
      waitFor('the API URL in the start log', () => /"apiUrl":"([^"]+)"/.exec(out)?.[1], timeoutMs),
      exited.then((c) => Promise.reject(new Error(`pledgewatch start exited with ${c} before it was up`))),
    ]);
    return {
      apiUrl,
      output,
      stop: async () => {
        child.kill('SIGTERM');
        return exited;
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(e as Error).message}\n--- pledgewatch start said:\n${output().split('\n').slice(-15).join('\n')}`, { cause: e });
  }
}

/** Runs `pledgewatch ARGS` to its end without blocking this process (a test's servers keep serving). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr };
}
