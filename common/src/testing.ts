/** Helpers for the test suites of every package (not used by production code). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';

/** Polls `probe` until it returns a value other than undefined/false, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TempDir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'pw-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP socket that turned Nagle's algorithm off, with its ports at that moment (a destroyed socket forgets them). */
export interface NoDelaySocket {
  socket: net.Socket;
  localPort: number | undefined;
  remotePort: number | undefined;
}

/** Records every socket of this process that calls setNoDelay(true), until `restore()`. */
export function watchNoDelay(): { sockets: NoDelaySocket[]; restore(): void } {
  const proto = net.Socket.prototype;
  const original = Object.getOwnPropertyDescriptor(proto, 'setNoDelay')?.value as (this: net.Socket, noDelay?: boolean) => net.Socket;
  const sockets: NoDelaySocket[] = [];
  proto.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
    if (noDelay === true) sockets.push({ socket: this, localPort: this.localPort, remotePort: this.remotePort });
    return original.call(this, noDelay);
  };
  return { sockets, restore: () => void (proto.setNoDelay = original) };
}
