/** The uplink over TLS with a client certificate, against a real aedes behind a TLS listener that requires one. */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { Aedes, type AuthenticateError } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { isPwError, type UplinkBatch } from '@pledgewatch/common';
import { checkEdgeConfig, createEdgeAgent, type EdgeAgent } from '../src/index.ts';
import { record, silentLogger, tempDir, waitFor, configErrors as errorsOf } from './helpers.ts';

const GW = 'gw-tls-1';
const GW_PASSWORD = 'gw-secret';
const OBSERVER_PASSWORD = 'obs-secret';
const accounts: Record<string, string> = { [GW]: GW_PASSWORD, observer: OBSERVER_PASSWORD };
const certs = join(import.meta.dirname, 'fixtures', 'tls');
const pem = (name: string) => join(certs, name);

/** aedes with a mutual-TLS listener for gateways and a plain one for the test's observer. */
async function tlsBroker() {
  const broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => {
    if (username !== undefined && password?.toString() === accounts[username]) return done(null, true);
    const err: AuthenticateError = Object.assign(new Error('bad username or password'), { returnCode: 4 });
    return done(err, false);
  };
  const options = { key: readFileSync(pem('broker.key')), cert: readFileSync(pem('broker.crt')), ca: readFileSync(pem('ca.crt')) };
  const secure = tls.createServer({ ...options, requestCert: true, rejectUnauthorized: true }, broker.handle);
  const plain = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  for (const server of [secure, plain]) server.on('connection', (s: net.Socket) => sockets.add(s));
  const port = async (server: net.Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  };
  const [securePort, plainPort] = [await port(secure), await port(plain)];
  return {
    tlsUrl: `mqtts://127.0.0.1:${securePort}`,
    plainUrl: `mqtt://127.0.0.1:${plainPort}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([secure, plain].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}


describe('uplink over TLS', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const configFor = (url: string, dataDir: string, tlsFiles: { ca?: string; cert?: string; key?: string }) => ({
    gatewayId: GW,
    dataDir,
    uplink: { url, password: GW_PASSWORD, tls: tlsFiles },
    batch: { maxEvents: 10, maxDelayMs: 10 },
    presence: { absenceTimeoutS: 1, snapshotIntervalS: 0.1 },
    readers: [{ id: 'dock', driver: 'simulated', antennas: { '1': 'A1' }, simulated: { roundMs: 50, missProbability: 0 } }],
  });

  const startAgent = async (config: unknown): Promise<EdgeAgent> => {
    const agent = createEdgeAgent({ config: checkEdgeConfig(config), logger: silentLogger() });
    cleanups.push(() => agent.stop());
    await agent.start();
    return agent;
  };

  it('connects with the CA and a client certificate, and not without either', async () => {
    const broker = await tlsBroker();
    cleanups.push(broker.close);
    const rec = await record(broker.plainUrl, { username: 'observer', password: OBSERVER_PASSWORD }, `pw/v1/gw/${GW}/events`);
    cleanups.push(rec.close);
    const dir = tempDir();
    cleanups.push(dir.remove);

    const noCert = await startAgent(configFor(broker.tlsUrl, join(dir.path, 'no-cert'), { ca: pem('ca.crt') }));
    // without the CA the broker's certificate is not trusted (no insecure fallback)
    const noCa = await startAgent(configFor(broker.tlsUrl, join(dir.path, 'no-ca'), { cert: pem('gateway.crt'), key: pem('gateway.key') }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([noCert.status().online, noCa.status().online]).toEqual([false, false]);
    expect(rec.messages).toEqual([]);

    const agent = await startAgent(configFor(broker.tlsUrl, join(dir.path, 'ok'), { ca: pem('ca.crt'), cert: pem('gateway.crt'), key: pem('gateway.key') }));
    await waitFor(() => agent.status().online || undefined, 10_000, 'TLS connection');
    const batch = await waitFor(() => rec.messages[0]?.payload as UplinkBatch | undefined, 10_000, 'a batch over TLS');
    expect(batch).toMatchObject({ v: 1, gatewayId: GW, seq: 1 });
  });

  it('stops the agent at start when a TLS file cannot be read, naming the key', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const config = configFor('mqtts://127.0.0.1:1', dir.path, { ca: join(dir.path, 'missing-ca.crt') });
    const agent = createEdgeAgent({ config: checkEdgeConfig(config), logger: silentLogger() });
    const failure = await agent.start().then(
      () => null,
      (err: unknown) => err,
    );
    expect(isPwError(failure, 'VALIDATION') && failure.errors).toEqual([{ path: '/uplink/tls/ca', reason: expect.stringMatching(/missing-ca\.crt/) as string }]);
    await agent.stop();
  });

  it('checks the TLS keys in the config', () => {
    const base = configFor('mqtt://127.0.0.1:1883', '/tmp/pw', {});
    expect(errorsOf({ ...base, uplink: { ...base.uplink, tls: { cert: 'gw.crt' } } })).toEqual([
      { path: '/uplink/tls', reason: 'needs an mqtts://, ssl:// or wss:// uplink url' },
      { path: '/uplink/tls/key', reason: 'required with /uplink/tls/cert' },
    ]);
    expect(errorsOf({ ...base, uplink: { ...base.uplink, url: 'mqtts://h:8883', tls: { key: 'gw.key', pem: 'x' } } })).toEqual([
      { path: '/uplink/tls/pem', reason: 'unknown key' },
    ]);
    const ok = checkEdgeConfig({ ...base, uplink: { ...base.uplink, url: 'mqtts://h:8883', tls: { ca: 'ca.crt' } } });
    expect(ok.uplink.tls).toEqual({ ca: 'ca.crt' });
    expect(Object.isFrozen(ok.uplink.tls)).toBe(true);
  });
});
