/**
 * The embedded central broker (aedes). Gateways log in with the password from `pledgewatch gateway
 * create` and may publish only under `pw/v1/gw/{their id}/`; price feeds only under `pw/v1/prices/`.
 * Ingest in the same process takes its messages straight from the broker (handover.ts); a service
 * account, when one is given, may read everything over MQTT.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { INGEST_TOPICS, isGatewayTopic } from '@pledgewatch/common';
import type { MqttAccount, StateStore } from '@pledgewatch/store';
import { verifyPassword } from './passwords.ts';
import type { IngestHandover } from './handover.ts';

export interface BrokerOptions {
  host: string;
  port: number;
  store: StateStore;
  logger: Logger;
  registry: Registry;
  /**
   * The one account allowed to subscribe to everything, over MQTT (ingest reading the broker as it
   * would an external one: tests, the bench's bare subscriber). None: only ingest's hand-over reads.
   */
  service?: { username: string; password: string };
  /** Ingest in this process: hand it the messages of its topics (handover.ts). */
  handover?: IngestHandover;
}

export interface EmbeddedBroker {
  url: string;
  /** Disconnects every client and stops listening (once: later calls wait for the first). */
  close(): Promise<void>;
}

type Principal = { kind: 'service' } | { kind: MqttAccount['kind']; id: string };

// aedes's own enum is `const` in a .d.ts, which isolatedModules cannot inline.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, code: number): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  // The enum is const in aedes's typings and cannot be named here; the numbers are MQTT's own.
  (err as { returnCode: number }).returnCode = code;
  return err;
}

export function mayPublish(principal: Principal, topic: string): boolean {
  switch (principal.kind) {
    case 'service':
      return true;
    case 'gateway':
      return isGatewayTopic(topic, principal.id);
    case 'feed':
      return /^pw\/v1\/prices\/([A-Za-z0-9._-]{1,64}|fx\/[A-Z]{3}\/[A-Z]{3})$/.test(topic);
  }
}

export async function startEmbeddedBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.logger.child({ component: 'broker' });
  const principals = new WeakMap<Client, Principal>();
  /** Set as close() begins: from then on no client's publish is taken (see close). */
  let closing = false;
  const denied = new Counter({
    name: 'pw_broker_denied_total',
    help: 'MQTT operations refused by the embedded broker',
    labelNames: ['op'] as const,
    registers: [opts.registry],
  });
  const clients = new Gauge({ name: 'pw_broker_clients', help: 'Connected MQTT clients', registers: [opts.registry] });

  const authenticate = async (client: Client, username?: string, password?: Buffer): Promise<Principal> => {
    if (!client.id) throw authError('empty client id', 2);
    if (username === undefined || password === undefined) throw authError('credentials required', NOT_AUTHORIZED);
    const secret = password.toString('utf8');
    if (opts.service !== undefined && username === opts.service.username) {
      if (secret === opts.service.password) return { kind: 'service' };
      throw authError('bad credentials', BAD_USERNAME_OR_PASSWORD);
    }
    const account = await opts.store.getMqttAccount(username);
    if (account === null || !(await verifyPassword(secret, account.passwordHash))) {
      throw authError('bad credentials', BAD_USERNAME_OR_PASSWORD);
    }
    if (account.kind === 'gateway') await opts.handover?.gatewayConnected(account.id);
    return { kind: account.kind, id: account.id };
  };

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      authenticate(client, username, password).then(
        (principal) => {
          principals.set(client, principal);
          done(null, true);
        },
        (err: AuthenticateError) => {
          denied.inc({ op: 'connect' });
          log.warn({ clientId: client.id, username, reason: err.message }, 'MQTT login refused');
          done(err, false);
        },
      );
    },
    authorizePublish(client, packet, callback) {
      // Closing: nothing more is acknowledged (the client sends it again to the next broker), and the last
      // wills aedes publishes as it drops the connections are not handed over — the central side
      // stopping is not every gateway going offline.
      if (closing && client !== null) return callback(new Error('the broker is closing'));
      const principal = client === null ? ({ kind: 'service' } as const) : principals.get(client);
      if (principal !== undefined && mayPublish(principal, packet.topic)) return callback(null);
      denied.inc({ op: 'publish' });
      log.warn({ clientId: client?.id, topic: packet.topic }, 'MQTT publish refused: outside the account topics');
      callback(new Error(`not allowed to publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, subscription, callback) {
      if (principals.get(client)?.kind === 'service') return callback(null, subscription);
      denied.inc({ op: 'subscribe' });
      log.warn({ clientId: client.id, topic: subscription.topic }, 'MQTT subscribe refused');
      callback(new Error('not allowed to subscribe'), null);
    },
  });
  broker.on('client', () => clients.inc());
  broker.on('clientDisconnect', () => clients.dec());
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'MQTT client error'));
  const handover = opts.handover;
  if (handover !== undefined) {
    new Gauge({
      name: 'pw_broker_ingest_backlog',
      help: 'Messages the embedded broker has handed to ingest in this process and ingest has not yet handled',
      registers: [opts.registry],
      collect() {
        this.set(handover.backlog);
      },
    });
    for (const filter of INGEST_TOPICS) await new Promise<void>((resolve) => broker.subscribe(filter, handover.deliver, resolve));
  }

  const server = net.createServer((socket) => {
    // MQTT packets go out the moment they are written: see sendWithoutDelay in common.
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `mqtt://${host}:${address.port}`;
  log.info({ url }, 'embedded MQTT broker listening');

  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= (async () => {
        closing = true;
        // aedes sends a QoS 1 PUBACK first and publishes a turn of the event loop later (write.js:
        // setImmediate, then in-memory persistence promises); closed before then, its emitter refuses the
        // message the gateway was told was taken. Publishes refused from here on, one turn lets those go.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Connections that linger past the broker's close would keep the listener open forever.
          setTimeout(resolve, 2000).unref();
        });
      })();
      return closed;
    },
  };
}
