/**
 * The embedded broker's hand-over to ingest in the same process. Ingest's shards run on worker threads
 * beside the broker; instead of logging in over loopback TCP as MQTT clients (the broker encoding every
 * message again for each of them, each worker parsing it again and answering with a PUBACK), they take
 * the broker's messages straight from it, over a MessagePort each, and say which they have handled.
 *
 * What a gateway is told is what aedes tells it: the PUBACK of a QoS 1 message leaves when the broker
 * has read it, before anyone has handled it (aedes acknowledges first, then publishes). Until ingest
 * has handled it, the message is in this process's memory only — as it was in ingest's session on the
 * embedded broker before. So a crash of the central process can lose the last moments' messages that
 * gateways were told were taken; a clean stop loses none: the broker stops taking messages first, and
 * ingest handles what it was handed before it stops (drained). An external broker with persistent
 * sessions (PW_MQTT_URL) is the deployment that keeps them across a crash (README, Production backends).
 *
 * Messages not yet handled push back: beyond `highWater` of them, aedes is not told a message was
 * delivered, so it stops reading from that gateway's connection until ingest catches up — TCP then
 * stops the gateway, whose outbox keeps what it has not sent. (Once aedes has as many deliveries
 * outstanding as its concurrency, 100, it queues every further publish: then all gateways wait.)
 * Until a shard's worker is attached, its messages wait here.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AedesPublishPacket } from 'aedes';
import type { StateStore } from '@pledgewatch/store';
import type { HandedAcks, HandedMessages } from '../connection.ts';
import { BrokerShardRouting, type IngestRouting } from './shard-routing.ts';

/** Messages handed over and not yet handled beyond which the broker stops reading from their gateways. */
const HIGH_WATER = 1000;

interface Outbox {
  ids: number[];
  topics: string[];
  payloads: Uint8Array[];
}

const emptyOutbox = (): Outbox => ({ ids: [], topics: [], payloads: [] });

export class IngestHandover {
  private readonly ports: (MessagePort | undefined)[];
  /** Per shard: messages not yet posted (no port yet, or posted at the end of this turn of the event loop). */
  private readonly outboxes: Outbox[];
  /** Per message handed over and not yet handled: the shards that have not handled it yet. */
  private readonly held = new Map<number, number>();
  /** Per shard: the messages handed to it that it has not handled yet. */
  private readonly pending: Set<number>[];
  /** aedes's delivery callbacks held back while the backlog is above the high water mark. */
  private readonly paused: (() => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private nextId = 1;
  private flushing = false;

  /** One shard, or several with the routing that places each gateway's messages (shard-routing.ts). */
  constructor(
    readonly shards: number,
    private readonly routing?: IngestRouting,
    private readonly highWater = HIGH_WATER,
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, not ${shards}`);
    if (shards > 1 && routing === undefined) throw new Error('a hand-over to several shards needs their routing');
    this.ports = Array.from({ length: shards }, () => undefined);
    this.outboxes = Array.from({ length: shards }, emptyOutbox);
    this.pending = Array.from({ length: shards }, () => new Set<number>());
  }

  /** The hand-over to `shards` shards, routed by the gateways registered in `store`. */
  static async open(store: Pick<StateStore, 'listGateways'>, shards: number): Promise<IngestHandover> {
    if (shards === 1) return new IngestHandover(1);
    const routing = new BrokerShardRouting(store, shards);
    await routing.refresh();
    return new IngestHandover(shards, routing);
  }

  /** A gateway logged in: its site is known before it can publish. */
  async gatewayConnected(gatewayId: string): Promise<void> {
    await this.routing?.gatewayConnected(gatewayId);
  }

  /** Messages handed over and not yet handled by every shard they went to. */
  get backlog(): number {
    return this.held.size;
  }

  /** Resolves once every message handed over has been handled (or no shard is left to), or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    this.flushSoon();
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs).unref();
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** aedes's in-process subscriber: `broker.subscribe(filter, handover.deliver, done)`. */
  readonly deliver = (packet: AedesPublishPacket, done: () => void): void => {
    const id = this.nextId++;
    const shard = this.routing === undefined ? 0 : this.routing.shardOf(packet.topic);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.held.set(id, shard === null ? this.shards : 1);
    if (shard !== null) this.put(shard, id, packet.topic, payload);
    else for (let k = 0; k < this.shards; k++) this.put(k, id, packet.topic, payload);
    if (this.held.size > this.highWater) this.paused.push(done);
    else done();
  };

  /** Shard k's worker takes its messages on `port` from now on (what waited for it goes now). */
  attach(shard: number, port: MessagePort): void {
    if (this.ports[shard] !== undefined) throw new Error(`shard ${shard} is already attached`);
    this.ports[shard] = port;
    port.on('message', (message: HandedAcks) => this.acked(shard, message.acks));
    // Its worker is gone (ingest stopped; a worker that dies stops the process, see host.ts): what it
    // had not handled never will be, so it no longer counts, nor holds back the gateways or a stop.
    port.once('close', () => {
      if (this.ports[shard] !== port) return;
      this.ports[shard] = undefined;
      this.outboxes[shard] = emptyOutbox();
      this.acked(shard, [...(this.pending[shard] as Set<number>)]);
    });
    this.flushSoon();
  }

  private put(shard: number, id: number, topic: string, payload: Buffer): void {
    // A copy of its own, whose memory moves to the worker: the payload is a view on the broker's read
    // buffer, whose whole backing store structured cloning would copy instead.
    const bytes = new Uint8Array(payload.length);
    bytes.set(payload);
    (this.pending[shard] as Set<number>).add(id);
    const outbox = this.outboxes[shard] as Outbox;
    outbox.ids.push(id);
    outbox.topics.push(topic);
    outbox.payloads.push(bytes);
    this.flushSoon();
  }

  /** The messages of one turn of the event loop (a read brings several) go to each shard in one post. */
  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      this.ports.forEach((port, k) => {
        const outbox = this.outboxes[k] as Outbox;
        if (port === undefined || outbox.ids.length === 0) return;
        this.outboxes[k] = emptyOutbox();
        const message: HandedMessages = outbox;
        port.postMessage(message, outbox.payloads.map((p) => p.buffer as ArrayBuffer));
      });
    });
  }

  private acked(shard: number, ids: readonly number[]): void {
    const pending = this.pending[shard] as Set<number>;
    for (const id of ids) {
      if (!pending.delete(id)) continue;
      const left = this.held.get(id);
      if (left === undefined) continue;
      if (left > 1) this.held.set(id, left - 1);
      else this.held.delete(id);
    }
    while (this.paused.length > 0 && this.held.size <= this.highWater) (this.paused.shift() as () => void)();
    this.settle();
  }

  private isDrained(): boolean {
    return this.held.size === 0 || this.ports.every((p) => p === undefined);
  }

  private settle(): void {
    if (this.isDrained()) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
