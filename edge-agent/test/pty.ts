/**
 * Real pseudo-terminal pairs for the serial tests: socat links DIR/ttyV0 ↔ DIR/ttyV1, and the serial
 * emulator runs in a child process writing to one end (writing from the reading process can
 * deadlock, DEPENDENCIES.md). Killing socat makes the device disappear as an unplugged USB adapter does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@pledgewatch/common/testing';

const ROOT = join(import.meta.dirname, '..', '..');
const EMULATOR = join(ROOT, 'simulators', 'src', 'serial-emulator.ts');

/** Whether socat can run here; CI installs it, a developer machine may not have it. */
export function socatAvailable(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface PtyPair {
  /** the end the driver reads */
  reader: string;
  /** the end the emulator writes */
  device: string;
  /** Ends socat (SIGTERM: it removes the links), so both devices disappear. */
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** Starts socat linking dir/ttyV0 and dir/ttyV1 and waits for both links. */
export async function startPtyPair(dir: string): Promise<PtyPair> {
  const reader = join(dir, 'ttyV0');
  const device = join(dir, 'ttyV1');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${reader}`, `pty,raw,echo=0,link=${device}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  socat.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  try {
    await waitFor('socat links', () => {
      if (socat.exitCode !== null) throw new Error(`socat exited ${socat.exitCode}: ${log}`);
      return existsSync(reader) && existsSync(device) && log.includes('starting data transfer loop');
    });
  } catch (err) {
    await stopChild(socat);
    throw err;
  }
  return {
    reader,
    device,
    stop: async () => {
      await stopChild(socat);
      // SIGTERM lets socat remove its links; make sure, so a new pair can take the same names.
      rmSync(reader, { force: true });
      rmSync(device, { force: true });
    },
  };
}

export interface EmulatorProcess {
  stop(): Promise<void>;
}

/** Runs simulators/src/serial-emulator.ts with these arguments in a child process. */
export async function spawnSerialEmulator(args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', EMULATOR, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await waitFor('serial emulator to start', () => {
    if (child.exitCode !== null) throw new Error(`serial emulator exited ${child.exitCode}: ${out}`);
    return out.includes('serial emulator running');
  });
  return { stop: () => stopChild(child) };
}
