/** The serial emulator's line formats and command line; writing to a real pty is tested in edge-agent/test/serial-pty.test.ts. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatedRead, formatLine, REGEX_SAMPLE_PATTERN } from '../src/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'simulators', 'src', 'serial-emulator.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });

describe('serial emulator', () => {
  const epcs = ['3034257BF7194E4000001A85', '3034257bf7194e4000001a86', '3034257BF7194E4000001A87'];

  it('gives every tag a fixed antenna and RSSI, and writes them as CSV or sample-regex lines', () => {
    expect([0, 1, 2, 3].map((i) => emulatedRead(epcs, i))).toEqual([
      { epc: epcs[0], antenna: 1, rssi: -40.5 },
      { epc: '3034257BF7194E4000001A86', antenna: 2, rssi: -41.5 },
      { epc: epcs[2], antenna: 1, rssi: -42.5 },
      { epc: epcs[0], antenna: 1, rssi: -40.5 },
    ]);
    const read = emulatedRead(epcs, 1, 3);
    expect(formatLine('csv', read)).toBe('3034257BF7194E4000001A86,2,-41.5\r\n');
    const line = formatLine('regex-sample', read);
    expect(new RegExp(REGEX_SAMPLE_PATTERN).exec(line.trimEnd())?.groups).toEqual({ epc: '3034257BF7194E4000001A86', antenna: '2', rssi: '-41.5' });
  });

  it('refuses a bad command line with exit code 2 and says why', () => {
    const noDevice = run(['--count', '3']);
    expect([noDevice.status, noDevice.stderr.trim()]).toEqual([2, 'serial-emulator: --device PATH is required']);
    const badFormat = run(['--device', '/dev/null', '--format', 'xml']);
    expect([badFormat.status, badFormat.stderr.trim()]).toEqual([2, 'serial-emulator: --format must be one of csv, regex-sample']);
    const badCount = run(['--device', '/dev/null', '--count', '0']);
    expect([badCount.status, badCount.stderr.trim()]).toEqual([2, 'serial-emulator: --count must be a positive integer, got "0"']);
  });
});
