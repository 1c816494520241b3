/**
 * The embedded broker's side of ingest sharded by site (see shards.ts): a gateway's messages reach the
 * other shards' sessions without their payload, which those shards would skip unread anyway — on a
 * small machine, sending every 30 kB batch to every shard for all but one to skip it costs a good part
 * of a core. Without the payload rather than not at all: aedes's path for a packet it does not forward
 * to a persistent session clears a message id in that session's queue and loses another QoS 1 message.
 * The shards still check every message themselves (an external broker sends them all in full), so
 * whatever this cannot place — a gateway it does not know, a price, an unknown topic — goes to every
 * shard in full, and they decide as they would without it.
 *
 * Both sides compute the split with the same function (siteShards) from the same gateway registrations;
 * this side learns a gateway when it logs in, before it can publish.
 */
import { parseTopic } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import { siteShards } from '../shards.ts';

/** What the embedded broker asks about ingest's sessions. */
export interface IngestRouting {
  /** A gateway logged in: learn its site before it publishes. */
  gatewayConnected(gatewayId: string): Promise<void>;
  /** Whether the client `clientId` is sent a message on `topic` with its payload (false: another shard's). */
  delivers(clientId: string, topic: string): boolean;
}

export class BrokerShardRouting implements IngestRouting {
  private sites = new Map<string, string>();
  private shards = new Map<string, number>();

  /** `clientId` is shard 0's, and shard k's is `${clientId}-s${k}` (shardMqtt). */
  constructor(
    private readonly store: Pick<StateStore, 'listGateways'>,
    private readonly count: number,
    private readonly clientId: string,
  ) {
    siteShards([], count);
  }

  /** Reads every gateway registration: at start, and when one logs in that is not known yet. */
  async refresh(): Promise<void> {
    const gateways = await this.store.listGateways();
    this.sites = new Map(gateways.map((g) => [g.id, g.siteId]));
    this.shards = siteShards(gateways, this.count);
  }

  async gatewayConnected(gatewayId: string): Promise<void> {
    if (!this.sites.has(gatewayId)) await this.refresh();
  }

  delivers(clientId: string, topic: string): boolean {
    const shard = this.shardOfClient(clientId);
    if (shard === null) return true;
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'gateway.events' && parsed?.kind !== 'gateway.status') return true;
    const site = this.sites.get(parsed.gatewayId);
    return site === undefined || (this.shards.get(site) ?? 0) === shard;
  }

  /** Which shard a client is, or null for any other client (a monitor, a test's subscriber). */
  private shardOfClient(clientId: string): number | null {
    if (clientId === this.clientId) return 0;
    if (!clientId.startsWith(`${this.clientId}-s`)) return null;
    const k = Number(clientId.slice(this.clientId.length + 2));
    return Number.isInteger(k) && k > 0 && k < this.count ? k : null;
  }
}
