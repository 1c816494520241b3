/**
 * The real edge agent with its local broker on port 0 and its uplink to a real aedes central broker
 * on port 0, a recorder upstream, and device clients that log in like sensors and cameras do.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { systemClock, type Clock, type UplinkBatch, type UplinkEvent } from '@pledgewatch/common';
import { checkEdgeConfig, createEdgeAgent, type EdgeAgent, type EdgeConfigInput } from '../src/index.ts';
import { record, silentLogger, startBroker, tempDir, waitFor, type Recorder, type TestBroker } from './helpers.ts';

export const GW = 'gw-local-1';
const gatewayPassword = 'gw-secret';
const observer = { username: 'observer', password: 'obs-secret' };

export const DEVICES: NonNullable<EdgeConfigInput['localBroker']>['devices'] = [
  { id: 'temp-a1', kind: 'sensor', password: 'temp-pass', zone: 'A1', sensorKinds: ['temperature', 'humidity'] },
  { id: 'door-a1', kind: 'sensor', username: 'door-user', password: 'door-pass', zone: 'A1' },
  { id: 'cam-1', kind: 'camera', password: 'cam-pass', zone: 'A1', zones: ['A1', 'A2'] },
  { id: 'truck-7', kind: 'tracker', password: 'truck-pass' },
];

export interface Harness {
  central: TestBroker;
  agent: EdgeAgent;
  rec: Recorder;
  /** Every event that reached the central broker so far, in order. */
  events(): UplinkEvent[];
  /** Waits for the first upstream event of `type` that matches. */
  next<T extends UplinkEvent['type']>(type: T, match?: (e: Extract<UplinkEvent, { type: T }>) => boolean): Promise<Extract<UplinkEvent, { type: T }>>;
  /** A device client logged in with these credentials; rejects as the broker refuses it. */
  device(username: string, password: string, opts?: { clientId?: string }): Promise<MqttClient>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock?: Clock;
  metrics?: boolean;
  batch?: { maxEvents: number; maxDelayMs: number };
  /** Start without a reachable central broker (the uplink keeps retrying). */
  uplinkDown?: boolean;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const central = await startBroker({ [GW]: gatewayPassword, [observer.username]: observer.password });
  const dir = tempDir();
  const rec = await record(central.url, observer, `pw/v1/gw/${GW}/events`);
  const config = checkEdgeConfig({
    gatewayId: GW,
    dataDir: dir.path,
    uplink: { url: options.uplinkDown === true ? 'mqtt://127.0.0.1:1' : central.url, password: gatewayPassword },
    batch: options.batch ?? { maxEvents: 50, maxDelayMs: 20 },
    readers: [],
    localBroker: { port: 0, devices: DEVICES },
    ...(options.metrics === true ? { metrics: { port: 0 } } : {}),
  });
  const agent = createEdgeAgent({ config, logger: silentLogger(), clock: options.clock ?? systemClock, stopTimeoutMs: 1000 });
  await agent.start();
  const clients: MqttClient[] = [];
  const events = () => rec.messages.flatMap((m) => (m.payload as UplinkBatch).events);
  return {
    central,
    agent,
    rec,
    events,
    next: (type, match = () => true) =>
      waitFor(
        () => events().find((e): e is Extract<UplinkEvent, { type: typeof type }> => e.type === type && match(e as Extract<UplinkEvent, { type: typeof type }>)),
        10_000,
        `an upstream ${type} event`,
      ),
    async device(username, password, opts = {}) {
      const url = agent.localBrokerUrl;
      if (url === null) throw new Error('agent has no local broker');
      const clientId = opts.clientId ?? `dev-${username}-${clients.length}`;
      const client = await mqtt.connectAsync(url, { username, password, clientId, reconnectPeriod: 0 });
      client.on('error', () => undefined); // refusals are what these tests look at
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await agent.stop();
      await rec.close();
      await central.close();
      dir.remove();
    },
  };
}

/** Resolves once the client's connection is closed (by the broker, in these tests). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** The value of one counter or gauge sample of the agent's registry, 0 when absent. */
export async function sample(agent: EdgeAgent, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await agent.registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return found?.value ?? 0;
}
