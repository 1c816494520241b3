/**
 * The broker connection port and its mqtt.js adapter. Messages are handed over one at a time and
 * acknowledged (PUBACK) only after the handler has finished, so a message is never acknowledged
 * before its effects are committed, and a slow ingest pushes back on the broker instead of buffering.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { redactUrl, sendWithoutDelay } from '@pledgewatch/common';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
}

export type MessageHandler = (message: InboundMessage) => Promise<void>;

export interface BrokerConnection {
  start(handler: MessageHandler): Promise<void>;
  isConnected(): boolean;
  close(): Promise<void>;
}

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  topics: string[];
  logger: Logger;
}

/** mqtt.js options for one of ingest's sessions (MQTT 3.1.1, the account's credentials when it has them). */
export function sessionOptions(
  account: Pick<MqttConnectionOptions, 'clientId' | 'username' | 'password'>,
  session: { clean: boolean; reconnectPeriod: number },
): IClientOptions {
  return {
    clientId: account.clientId,
    ...session,
    protocolVersion: 4,
    connectTimeout: 10_000,
    ...(account.username === undefined ? {} : { username: account.username }),
    ...(account.password === undefined ? {} : { password: account.password }),
  };
}

export function mqttConnection(opts: MqttConnectionOptions): BrokerConnection {
  const log = opts.logger.child({ component: 'mqtt-in', url: redactUrl(opts.url) });
  let client: MqttClient | undefined;
  return {
    async start(handler) {
      const options: IClientOptions = { ...sessionOptions(opts, { clean: false, reconnectPeriod: 1000 }), manualConnect: true };
      const c = sendWithoutDelay(mqtt.connect(opts.url, options));
      client = c;
      // PUBACKs of the messages handled in one turn of the event loop (a read brings several) leave in
      // one write: each write to a loopback socket costs the sender the receiver's side of TCP too.
      let corked = false;
      const coalesceAcks = () => {
        const stream = c.stream as { cork?: () => void; uncork?: () => void } | undefined;
        if (corked || stream?.cork === undefined || stream.uncork === undefined) return;
        corked = true;
        stream.cork();
        setImmediate(() => {
          corked = false;
          stream.uncork?.();
        });
      };
      c.handleMessage = (packet: IPublishPacket, done) => {
        coalesceAcks();
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        handler({ topic: packet.topic, payload }).then(
          () => done(),
          (err: unknown) => {
            // The handler counts and logs its own failures; anything reaching here is a bug, not data.
            log.error({ err, topic: packet.topic }, 'message handler failed');
            done();
          },
        );
      };
      c.on('connect', (connack) => {
        log.info({ sessionPresent: connack.sessionPresent }, 'connected to broker');
        // With a session kept by the broker (clean: false), the subscriptions and whatever queued for
        // them while ingest was away are still there; subscribing again would replay retained statuses.
        if (!connack.sessionPresent) {
          c.subscribe(opts.topics, { qos: 1 }, (err, granted) => {
            if (err) return log.error({ err }, 'subscribe failed');
            // 128 = refused: an external broker's ACL does not let this account read the topic.
            const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
            if (refused.length > 0) log.error({ refused }, 'broker refused subscriptions: the ingest account needs read access to pw/v1/#');
          });
        }
      });
      c.on('offline', () => log.warn('broker connection lost; reconnecting'));
      c.on('error', (err) => log.warn({ err: err.message }, 'broker connection error'));
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => {
          c.removeListener('connect', onConnect);
          c.end(true);
          reject(err);
        };
        const onConnect = () => {
          c.removeListener('error', onError);
          resolve();
        };
        c.once('connect', onConnect);
        c.once('error', onError);
        c.connect();
      });
    },
    isConnected: () => client?.connected ?? false,
    async close() {
      // Not forced: lets the message being handled finish and its PUBACK go out.
      if (client !== undefined) await client.endAsync(false);
    },
  };
}
