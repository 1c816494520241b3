/**
 * Ingest's broker sessions when the number of shards changes. On an external broker every shard has a
 * persistent session (shardMqtt) subscribed to all of pw/v1/#, so while ingest is down each session
 * queues every message, and a restart with the same count loses nothing. A new count moves sites
 * between shards (ranks mod count): a shard whose session existed gets its sites' backlog from it; a
 * new shard's session was not there to queue anything, so what gateways published for its sites while
 * ingest was down waits in sessions whose shards now skip it. Fewer shards leave sessions nobody reads,
 * queueing everything until the broker's limits drop it: those are ended here (what they hold is in
 * the remaining sessions too). The embedded broker hands its messages over in-process (broker/handover.ts)
 * and keeps no session, so nothing to do there.
 */
import { sessionOptions } from '../connection.ts';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { MqttSource } from './protocol.ts';

/**
 * Shard k's MQTT identity. Shard 0 keeps the configured client id, so an existing persistent session
 * carries on; shard k > 0 is `${clientId}-s${k}`. When the broker URL names a user (an external
 * broker's ingest account), shard k > 0 logs in as `${user}-s${k}` with the same password: Mosquitto's
 * use_username_as_clientid would otherwise make every shard the same session, taking it from the others.
 */
export function shardMqtt(mqtt: MqttSource, k: number): MqttSource {
  if (k === 0) return mqtt;
  const url = new URL(mqtt.url);
  if (url.username !== '') url.username = encodeURIComponent(`${decodeURIComponent(url.username)}-s${k}`);
  return { ...mqtt, url: url.href, clientId: `${mqtt.clientId}-s${k}` };
}

export interface ShardCountChange {
  /** Ingest's account on an external broker (PW_MQTT_URL), whose persistent sessions outlive ingest; absent with the embedded broker. */
  mqtt: MqttSource | undefined;
  /** The shard count ingest last ran with (null: never before), and the one it starts with. */
  previous: number | null;
  workers: number;
  logger: Logger;
}

export async function reconcileShardSessions(change: ShardCountChange): Promise<void> {
  const { mqtt, previous, workers, logger } = change;
  if (previous === null || previous === workers) return;
  if (mqtt === undefined) {
    logger.info({ previous, workers }, 'ingest runs a different number of workers than last time; sites are reassigned');
    return;
  }
  const users = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => identity(mqtt, from + i));
  if (workers > previous) {
    logger.warn(
      { previous, workers, newSessions: users(previous, workers) },
      'ingest runs more workers than last time: the new shards start with new broker sessions, so what gateways published ' +
        'for their sites while ingest was down was queued only in sessions of other shards, which skip it (edge agents do not resend what the broker acknowledged); ' +
        'to change the count without that gap, create the new sessions before stopping ingest (README, Production backends)',
    );
    return;
  }
  const ended: string[] = [];
  const left: string[] = [];
  for (let k = workers; k < previous; k++) {
    try {
      await endShardSession(mqtt, k);
      ended.push(identity(mqtt, k));
    } catch (err) {
      logger.warn({ err: (err as Error).message, session: identity(mqtt, k) }, 'could not end the broker session of a shard no longer run');
      left.push(identity(mqtt, k));
    }
  }
  logger.warn(
    { previous, workers, ended, ...(left.length > 0 ? { left } : {}) },
    left.length === 0
      ? 'ingest runs fewer workers than last time: ended the broker sessions of the shards no longer run (their backlog is also in the remaining sessions)'
      : 'ingest runs fewer workers than last time: end the broker sessions left by hand (connect once with a clean session as each), or they queue every message until the broker drops them',
  );
}

/** Ends shard k's persistent broker session: a clean-session connect under the same client id does that. */
export async function endShardSession(base: MqttSource, k: number): Promise<void> {
  const options = shardMqtt(base, k);
  const client = await mqtt.connectAsync(options.url, sessionOptions(options, { clean: true, reconnectPeriod: 0 }));
  await client.endAsync();
}

/** How a shard's session is named on the broker: the user name when the URL has one (Mosquitto's client id), else the client id. */
function identity(base: MqttSource, k: number): string {
  const options = shardMqtt(base, k);
  const user = new URL(options.url).username;
  return user === '' ? options.clientId : decodeURIComponent(user);
}
