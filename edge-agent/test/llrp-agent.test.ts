/**
 * The real edge agent with an `llrp` reader: config, then end to end against the LLRP emulator and
 * a real aedes broker, all on port 0 — tag events reach an MQTT subscriber.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import { startLlrpEmulator } from '../../simulators/src/llrp-emulator.ts';
import { checkEdgeConfig, createEdgeAgent, LlrpReader, type EdgeAgent } from '../src/index.ts';
import { record, seededRandom, silentLogger, startBroker, tempDir, waitFor, configErrors as errorsOf } from './helpers.ts';

const GW = 'gw-llrp-1';
const T1 = '3034257BF7194E4000001A85';
const T2 = '3034257BF7194E4000001A86';
const T3 = '30C579D5D4ADB60000000000';

const base = (reader: Record<string, unknown>) => ({
  gatewayId: GW,
  dataDir: '/tmp/pw-edge-llrp',
  uplink: { url: 'mqtt://127.0.0.1:1883' },
  readers: [{ id: 'dock', driver: 'llrp', antennas: { '1': 'A1', '2': 'A2' }, ...reader }],
});


describe('llrp reader config', () => {
  it('fills the defaults: port 5084, keepalive 10 s, rounds of 1 s, retries from 1 s up to a minute', () => {
    const reader = checkEdgeConfig(base({ llrp: { host: 'reader-1.local' } })).readers[0];
    expect(reader).toEqual({
      id: 'dock',
      driver: 'llrp',
      antennas: { '1': 'A1', '2': 'A2' },
      llrp: { host: 'reader-1.local', port: 5084, keepaliveMs: 10_000, roundMs: 1000, reconnect: { initialMs: 1000, maxMs: 60_000 } },
    });
    expect(Object.isFrozen(reader?.driver === 'llrp' && reader.llrp.reconnect)).toBe(true);
  });

  it('names what is wrong with an llrp block, by path', () => {
    expect(errorsOf(base({}))).toEqual([{ path: '/readers/0/llrp', reason: 'required when driver is "llrp"' }]);
    expect(errorsOf(base({ llrp: { host: 'r', port: 70000, keepaliveMs: 5, colour: 'red' } })).map((e) => e.path).sort()).toEqual([
      '/readers/0/llrp/colour',
      '/readers/0/llrp/keepaliveMs',
      '/readers/0/llrp/port',
    ]);
    expect(errorsOf({ ...base({ llrp: { host: 'r', roundMs: 2000, reconnect: { initialMs: 5000, maxMs: 1000 } }, simulated: {} }), presence: { absenceTimeoutS: 2 } })).toEqual([
      { path: '/readers/0/simulated', reason: 'only for driver "simulated"' },
      { path: '/readers/0/llrp/reconnect/initialMs', reason: 'must not exceed reconnect.maxMs (1000)' },
      { path: '/readers/0/llrp/roundMs', reason: 'must be shorter than presence.absenceTimeoutS (2000 ms)' },
    ]);
    const simulated = base({ driver: 'simulated', llrp: { host: 'r' } });
    expect(errorsOf(simulated)).toEqual([{ path: '/readers/0/llrp', reason: 'only for driver "llrp"' }]);
  });
});

describe('edge agent with an LLRP reader', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('turns the emulated reader’s reports into tag events on the uplink, and reports the reader down and back', async () => {
    const broker = await startBroker({ [GW]: 'gw-secret', observer: 'obs-secret' });
    cleanups.push(broker.close);
    const emulator = await startLlrpEmulator({ port: 0, tags: { '1': [T1, T2], '2': [T3] }, reportEveryMs: 50, missProbability: 0.2, random: seededRandom(5) });
    cleanups.push(() => emulator.close());
    const rec = await record(broker.url, { username: 'observer', password: 'obs-secret' }, `pw/v1/gw/${GW}/events`);
    cleanups.push(rec.close);
    const dir = tempDir();
    cleanups.push(dir.remove);

    const config = checkEdgeConfig({
      gatewayId: GW,
      dataDir: dir.path,
      uplink: { url: broker.url, password: 'gw-secret' },
      heartbeatIntervalS: 1,
      batch: { maxEvents: 50, maxDelayMs: 20 },
      presence: { absenceTimeoutS: 0.6, snapshotIntervalS: 60 },
      readers: [
        {
          id: 'dock',
          driver: 'llrp',
          antennas: { '1': 'A1', '2': 'A2' },
          llrp: { host: '127.0.0.1', port: emulator.port, keepaliveMs: 500, roundMs: 50, reconnect: { initialMs: 50, maxMs: 200 } },
        },
      ],
    });
    const agent: EdgeAgent = createEdgeAgent({ config, logger: silentLogger() });
    cleanups.push(() => agent.stop());
    expect(agent.reader('dock')).toBeInstanceOf(LlrpReader);
    await agent.start();

    const events = (): UplinkEvent[] => rec.messages.flatMap((m) => (m.payload as UplinkBatch).events);
    const arrived = (epc: string) => events().find((e) => e.type === 'tag.arrived' && e.epc === epc);
    await waitFor(() => [T1, T2, T3].every(arrived), 10_000, 'arrivals');
    expect(arrived(T1)).toMatchObject({ zone: 'A1', readerId: 'dock', antenna: 1, rssi: expect.any(Number) as unknown });
    expect(arrived(T3)).toMatchObject({ zone: 'A2', readerId: 'dock', antenna: 2 });
    expect(events().find((e) => e.type === 'reader.status')).toMatchObject({ readerId: 'dock', connected: true });
    expect(emulator.stats().received.START_ROSPEC).toBe(1);

    // Goods carried out: gone from the field, the tag departs once unseen for the absence timeout.
    emulator.removeTags([T2]);
    await waitFor(() => events().find((e) => e.type === 'tag.departed' && e.epc === T2), 10_000, 'departure');

    // Reader connection cut: reader.status says so, and no tag departs while the reader is blind.
    emulator.dropConnections();
    await waitFor(() => events().find((e) => e.type === 'reader.status' && !e.connected), 10_000, 'reader down');
    await waitFor(() => events().filter((e) => e.type === 'reader.status' && e.connected).length === 2, 10_000, 'reader back');
    expect(events().filter((e) => e.type === 'tag.departed').map((e) => e.type === 'tag.departed' && e.epc)).toEqual([T2]);
  });
});
