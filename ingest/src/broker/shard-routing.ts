/**
 * The embedded broker's side of ingest sharded by site (see shards.ts): which shard a message is handed
 * to (handover.ts). Both sides compute the split with the same function (siteShards) from the same
 * gateway registrations; this side learns a gateway when it logs in, before it can publish. Whatever this
 * cannot place — a gateway it does not know, a price, an unknown topic — goes to every shard, and they
 * decide as they would over an external broker, which sends every shard everything.
 */
import { parseTopic } from '@pledgewatch/common';
import type { StateStore } from '@pledgewatch/store';
import { siteShards } from '../shards.ts';

/** What the embedded broker asks about ingest's sessions. */
export interface IngestRouting {
  /** A gateway logged in: learn its site before it publishes. */
  gatewayConnected(gatewayId: string): Promise<void>;
  /** The shard a message on `topic` goes to, or null for every shard. */
  shardOf(topic: string): number | null;
}

export class BrokerShardRouting implements IngestRouting {
  private sites = new Map<string, string>();
  private shards = new Map<string, number>();

  constructor(
    private readonly store: Pick<StateStore, 'listGateways'>,
    private readonly count: number,
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

  shardOf(topic: string): number | null {
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'gateway.events' && parsed?.kind !== 'gateway.status') return null;
    const site = this.sites.get(parsed.gatewayId);
    return site === undefined ? null : (this.shards.get(site) ?? 0);
  }
}
