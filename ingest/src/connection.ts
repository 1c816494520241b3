/**
 * The broker connection port and its two adapters: mqtt.js, for an external broker, and a MessagePort
 * from the embedded broker in the same process (broker/handover.ts). Either way messages are handed to
 * ingest one at a time and acknowledged to the broker only after the handler has finished, so the
 * broker never counts a message as handled before its effects are committed, and a slow ingest pushes
 * back on the broker instead of buffering.
 */
import type { MessagePort } from 'node:worker_threads';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { redactUrl, sendWithoutDelay } from '@pledgewatch/common';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
}

/**
 * Handles one message. `more`: further messages follow that the connection acknowledges together with
 * this one, after a call without it — the handler may defer writing until then (group-commit.ts).
 */
export type MessageHandler = (message: InboundMessage, more?: boolean) => Promise<void>;

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

/** From the embedded broker's hand-over to a shard: messages in the order the broker took them. */
export interface HandedMessages {
  ids: number[];
  topics: string[];
  payloads: Uint8Array[];
}

/** From a shard back to the hand-over: the messages it has handled. */
export interface HandedAcks {
  acks: number[];
}

/** Handled messages acknowledged in one post to the broker's thread (each post wakes it). */
const ACKS_PER_POST = 16;

/**
 * Ingest's side of the embedded broker's hand-over (broker/handover.ts): messages come over `port` and
 * are handled strictly in order and acknowledged as they are handled. Closing handles what has
 * come first: the broker stops taking messages before ingest stops (startIngest in cli/src/central.ts).
 */
export function portConnection(port: MessagePort, logger: Logger): BrokerConnection {
  const log = logger.child({ component: 'handover-in' });
  let queue: InboundMessage[] = [];
  let ids: number[] = [];
  let head = 0;
  let acks: number[] = [];
  let open = false;
  /** The loop handling the queue, while it runs. */
  let draining: Promise<void> | null = null;

  const drain = async (handler: MessageHandler) => {
    while (head < queue.length) {
      const message = queue[head] as InboundMessage;
      const id = ids[head] as number;
      head++;
      // Up to ACKS_PER_POST messages in a row are one group: handled, then written together (more),
      // then acknowledged in one post. Not only when the queue is empty: the handler rarely leaves the
      // microtask queue while messages wait, and the broker's backlog would look larger than it is meanwhile.
      const more = head < queue.length && acks.length + 1 < ACKS_PER_POST;
      try {
        await handler(message, more);
      } catch (err) {
        // The handler counts and logs its own failures; anything reaching here is a bug, not data.
        log.error({ err, topic: message.topic }, 'message handler failed');
      }
      acks.push(id);
      if (!more) {
        const handled: HandedAcks = { acks };
        port.postMessage(handled);
        acks = [];
      }
    }
    queue = [];
    ids = [];
    head = 0;
    draining = null;
  };

  return {
    start(handler) {
      open = true;
      port.on('message', (message: HandedMessages) => {
        message.ids.forEach((id, i) => {
          const bytes = message.payloads[i] as Uint8Array;
          ids.push(id);
          queue.push({ topic: message.topics[i] as string, payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
        });
        draining ??= drain(handler);
      });
      log.info('taking messages from the embedded broker');
      return Promise.resolve();
    },
    isConnected: () => open,
    async close() {
      // Gateways were told these messages were taken (aedes acknowledges on receipt): all of them are
      // handled before ingest stops.
      await draining;
      open = false;
      port.close();
    },
  };
}
