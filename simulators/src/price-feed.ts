/** A simulated mark-to-market price feed publishing on `pw/v1/prices/{commodity}` (CONTRACT §2). */
import { isoTime, sendWithoutDelay, systemClock, topics, type Clock, type PriceMessage, type Timer } from '@pledgewatch/common';
import mqtt, { type MqttClient } from 'mqtt';

export interface FeedCommodity {
  commodity: string;
  currency: string;
  unit: string;
  price: number;
  /** Standard deviation of each step, as a fraction of the price (random walk). */
  volatility?: number;
}

export interface PriceFeedOptions {
  url: string;
  username: string;
  password: string;
  commodities: FeedCommodity[];
  intervalMs: number;
  source?: string;
  clock?: Clock;
  random?: () => number;
}

export interface PriceFeed {
  /** Sets a commodity's price now (a market shock) and publishes it. */
  shock(commodity: string, factor: number): Promise<void>;
  current(commodity: string): number | undefined;
  stop(): Promise<void>;
}

export async function startPriceFeed(opts: PriceFeedOptions): Promise<PriceFeed> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const prices = new Map(opts.commodities.map((c) => [c.commodity, { ...c }]));
  const client: MqttClient = await mqtt.connectAsync(opts.url, {
    username: opts.username,
    password: opts.password,
    clientId: `pw-feed-${opts.username}`,
    reconnectPeriod: 1000,
  });
  sendWithoutDelay(client);
  const publish = async (c: FeedCommodity) => {
    const message: PriceMessage = {
      commodity: c.commodity,
      price: Math.round(c.price * 10_000) / 10_000,
      currency: c.currency,
      unit: c.unit,
      at: isoTime(clock.now()),
      source: opts.source ?? 'simulated-feed',
    };
    await client.publishAsync(topics.price(c.commodity), JSON.stringify(message), { qos: 1 });
  };
  // Gaussian-ish step from the sum of uniforms: no extreme jumps, no dependency.
  const step = () => (random() + random() + random() - 1.5) / 0.5;
  const tick = async () => {
    for (const c of prices.values()) {
      c.price = Math.max(c.price * (1 + step() * (c.volatility ?? 0.002)), 0.0001);
      await publish(c);
    }
  };
  await tick();
  let stopped = false;
  const timer: Timer = clock.setInterval(() => {
    if (!stopped) tick().catch(() => undefined); // mqtt.js queues while offline; a closed client just drops
  }, opts.intervalMs);
  return {
    async shock(commodity, factor) {
      const c = prices.get(commodity);
      if (c === undefined) throw new Error(`unknown commodity ${commodity}`);
      c.price *= factor;
      await publish(c);
    },
    current: (commodity) => prices.get(commodity)?.price,
    async stop() {
      stopped = true;
      timer.cancel();
      await client.endAsync();
    },
  };
}
