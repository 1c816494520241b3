/**
 * The serial driver over a REAL pseudo-terminal pair (socat), with the serial emulator writing
 * from another process: CSV and regex lines decode to the right EPC, antenna and RSSI; malformed
 * lines are counted; the device disappearing and reappearing; and the whole edge agent publishing
 * tag.arrived (with its EPC URI) to a real MQTT broker.
 */
import { writeFileSync } from 'node:fs';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import { tempDir, waitFor } from '@pledgewatch/common/testing';
import { emulatedRead, REGEX_SAMPLE_PATTERN } from '../../simulators/src/serial-emulator.ts';
import { checkEdgeConfig, createEdgeAgent, decodeEpc, SerialReader, type ReaderEvents, type SerialSettingsConfig } from '../src/index.ts';
import { record, silentLogger, startBroker } from './helpers.ts';
import { socatAvailable, spawnSerialEmulator, startPtyPair } from './pty.ts';

const EPCS = Array.from({ length: 5 }, (_, i) => `3034257BF7194E40${(0x100 + i).toString(16).toUpperCase().padStart(8, '0')}`);

function serialSettings(path: string, format: Record<string, unknown> = { kind: 'csv' }): SerialSettingsConfig {
  const reader = checkEdgeConfig({
    gatewayId: 'gw-1',
    dataDir: '/tmp/unused',
    uplink: { url: 'mqtt://127.0.0.1:1883' },
    readers: [{ id: 'r1', driver: 'serial', antennas: { '1': 'A1' }, serial: { path, format, roundMs: 100, reconnect: { initialMs: 50, maxMs: 200 } } }],
  }).readers[0];
  if (reader?.driver !== 'serial') throw new Error('not a serial reader');
  return reader.serial;
}

const available = socatAvailable();
const title = 'serial reader over a real pty';
if (!available && process.env.CI === undefined) {
  process.stderr.write('serial-pty.test.ts: socat is not installed, so the real-pty serial tests are SKIPPED (apt-get install socat)\n');
}

if (!available && process.env.CI !== undefined) {
  describe(title, () => {
    it('needs socat, which CI installs (apt-get install socat)', () => {
      expect.fail('socat is not installed: the serial tests need it for a real pseudo-terminal pair');
    });
  });
}

describe.skipIf(!available)(available ? title : `${title} — SKIPPED: socat is not installed (apt-get install socat)`, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function rig(emulatorArgs: string[], format?: Record<string, unknown>) {
    const dir = tempDir('pw-serial-');
    cleanups.push(() => dir.remove());
    const epcsFile = dir.file('epcs.txt');
    writeFileSync(epcsFile, `# tags in the field\n${EPCS.join('\n')}\n`);
    let pty = await startPtyPair(dir.path);
    cleanups.push(() => pty.stop());
    const emulator = await spawnSerialEmulator(['--device', pty.device, '--epcs', epcsFile, '--interval-ms', '50', ...emulatorArgs]);
    cleanups.push(() => emulator.stop());
    const ignoredLines = new Counter({ name: 'pw_edge_ignored_lines_total', help: 'test', labelNames: ['reader', 'reason'], registers: [new Registry()] });
    const reader = new SerialReader({ id: 'r1', settings: serialSettings(pty.reader, format), clock: systemClock, ignoredLines });
    const seen: { [K in keyof ReaderEvents]: ReaderEvents[K][] } = { read: [], round: [], status: [] };
    reader.on('read', (r) => seen.read.push(r));
    reader.on('round', (r) => seen.round.push(r));
    reader.on('status', (s) => seen.status.push(s));
    await reader.start();
    cleanups.push(() => reader.stop());
    const ignored = async () => {
    const counts: Record<string, number> = {};
    for (const v of (await ignoredLines.get()).values) counts[String(v.labels.reason)] = v.value;
    return counts;
  };
    const replug = async () => {
      await pty.stop();
      pty = await startPtyPair(dir.path);
    };
    return { reader, seen, ignored, unplug: () => pty.stop(), replug };
  }

  /** Every tag read at least once, each with the antenna and RSSI the emulator gives it. */
  function expectAllTags(reads: ReaderEvents['read'][]): void {
    for (const [k, epc] of EPCS.entries()) {
      const { antenna, rssi } = emulatedRead(EPCS, k);
      expect(reads.find((r) => r.epc === epc)).toMatchObject({ epc, antenna, rssi });
      expect(reads.filter((r) => r.epc === epc).every((r) => r.antenna === antenna && r.rssi === rssi)).toBe(true);
    }
  }

  it('reads CSV lines with EPC, antenna and RSSI, and counts the malformed ones', async () => {
    const { seen, ignored } = await rig(['--format', 'csv', '--garbage-every', '4']);
    await waitFor('every tag, three times', () => EPCS.every((epc) => seen.read.filter((r) => r.epc === epc).length >= 3));
    expectAllTags(seen.read);
    expect(seen.status[0]).toEqual({ connected: true });
    expect(seen.round.length).toBeGreaterThan(0);
    await waitFor('each kind of garbage counted', async () => {
      const counts = await ignored();
      return (counts['bad-epc'] ?? 0) >= 2 && (counts['bad-antenna'] ?? 0) >= 1;
    });
  });

  it('reads lines through a regex with named groups', async () => {
    const { seen, ignored } = await rig(['--format', 'regex-sample', '--antennas', '3', '--garbage-every', '2'], { kind: 'regex', pattern: REGEX_SAMPLE_PATTERN });
    await waitFor('every tag', () => EPCS.every((epc) => seen.read.some((r) => r.epc === epc)));
    for (const [k, epc] of EPCS.entries()) expect(seen.read.find((r) => r.epc === epc)).toMatchObject(emulatedRead(EPCS, k, 3));
    await waitFor('unmatched lines counted', async () => ((await ignored())['no-match'] ?? 0) > 0);
  });

  it('goes disconnected when the device disappears, and reads again once it is back', async () => {
    const { seen, unplug, replug } = await rig(['--format', 'csv']);
    await waitFor('reads', () => seen.read.length >= EPCS.length);
    await unplug();
    await waitFor('disconnected', () => seen.status.at(-1)?.connected === false);
    expect(seen.status.at(-1)?.error).toEqual(expect.any(String));
    // While the device is gone: no reads and no rounds, so no tag can depart.
    const [reads, rounds] = [seen.read.length, seen.round.length];
    await new Promise((r) => setTimeout(r, 400));
    expect([seen.read.length, seen.round.length]).toEqual([reads, rounds]);
    await replug();
    await waitFor('reconnected', () => seen.status.at(-1)?.connected === true);
    await waitFor('reads resume', () => seen.read.length >= reads + EPCS.length);
    expectAllTags(seen.read.slice(reads));
    expect(seen.status.map((s) => s.connected)).toEqual([true, false, true]);
  });

  it('drives the edge agent: tag.arrived with antenna, RSSI and EPC URI reaches an MQTT subscriber', async () => {
    const dir = tempDir('pw-serial-agent-');
    cleanups.push(() => dir.remove());
    const pty = await startPtyPair(dir.path);
    cleanups.push(() => pty.stop());
    const emulator = await spawnSerialEmulator(['--device', pty.device, '--count', '3', '--interval-ms', '100', '--format', 'csv']);
    cleanups.push(() => emulator.stop());
    const broker = await startBroker({ 'gw-serial': 'gw-secret', observer: 'obs-secret' });
    cleanups.push(broker.close);
    const rec = await record(broker.url, { username: 'observer', password: 'obs-secret' }, 'pw/v1/gw/gw-serial/events');
    cleanups.push(rec.close);
    const config = checkEdgeConfig({
      gatewayId: 'gw-serial',
      dataDir: dir.path,
      uplink: { url: broker.url, password: 'gw-secret' },
      batch: { maxEvents: 50, maxDelayMs: 20 },
      readers: [{ id: 'door', driver: 'serial', antennas: { '1': 'A1', '2': 'A2' }, serial: { path: pty.reader, roundMs: 100 } }],
    });
    const agent = createEdgeAgent({ config, logger: silentLogger() });
    cleanups.push(() => agent.stop());
    await agent.start();

    // The emulator's --count N tags: 3034257BF7194E40 + the index in 8 hex digits.
    const tags = [0, 1, 2].map((i) => `3034257BF7194E40${i.toString(16).padStart(8, '0')}`);
    const events = (): UplinkEvent[] => rec.messages.flatMap((m) => (m.payload as UplinkBatch).events);
    const arrived = (epc: string) => events().find((e) => e.type === 'tag.arrived' && e.epc === epc);
    await waitFor('arrivals', () => tags.every(arrived));
    for (const [k, epc] of tags.entries()) {
      const { antenna, rssi } = emulatedRead(tags, k);
      expect(arrived(epc)).toMatchObject({ readerId: 'door', zone: `A${antenna}`, antenna, rssi, epcUri: decodeEpc(epc)?.tagUri });
    }
    expect(arrived(tags[0] ?? '')).toMatchObject({ epcUri: 'urn:epc:tag:sgtin-96:1.0614141.812345.0' });
    expect(events().find((e) => e.type === 'reader.status')).toMatchObject({ readerId: 'door', connected: true });
  });
});
