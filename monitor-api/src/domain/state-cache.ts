/**
 * What the hot routes read, kept in memory while the store's change counters say it is unchanged
 * (ChangeVersions in store/src/state.ts). `refresh()` reads the counters — one small query, shared by
 * the requests that start in one event-loop turn — at the start of every request; every entry remembers
 * the counters of the kinds it rests on as they read before it was loaded, and is loaded again once one
 * of them moved. Counters move in the writing transaction, whichever process writes, so an answer is
 * never older than the start of its request: no TTL, and several API processes on one PostgreSQL stay
 * consistent.
 *
 * The parts cached are: API keys, pledges, quantities per pledge (tags, readers, releases), the price
 * and FX factor per commodity and loan currency, the last published status per pledge, reader health.
 * A valuation depends on the time too (price age): the last one of each pledge is reused, with a new
 * `at`, only while its parts are the same objects and its price is as stale or fresh as it was.
 */
import { isoTime, priceStaleAfter, type Pledge, type Quantities, type ReaderIsUp, type Valuation, type ValuationStatus } from '@pledgewatch/common';
import { CHANGE_KINDS, type ApiKeyRecord, type ChangeKind, type ChangeVersions, type StateStore } from '@pledgewatch/store';
import { Counter, type Registry } from 'prom-client';
import {
  loadMarket,
  loadQuantities,
  loadReaderAvailability,
  maxPriceAgeOf,
  valueParts,
  type LiveValuationOptions,
  type ValuationSource,
} from './live-valuation.ts';

export type CacheSource = ValuationSource & Pick<StateStore, 'changeVersions' | 'getPledge' | 'findApiKeyByHash'>;

export interface StateCacheOptions {
  /** Entries per kind of entry at most (default 200,000); beyond, the oldest are dropped. */
  maxEntries?: number;
  /** Where `pledgewatch_api_cache_lookups_total` goes. */
  registry?: Registry;
}

type Market = Awaited<ReturnType<typeof loadMarket>>;

interface Valued {
  pledge: Pledge;
  quantities: Quantities;
  market: Market;
  previousStatus: ValuationStatus | null;
  maxPriceAgeMs: number;
  /** After this time the price is stale (null: no price). */
  staleAfter: number | null;
  /** When `valuation` was made. */
  at: number;
  valuation: Valuation;
}

export class StateCache {
  private latest: ChangeVersions | null = null;
  private reading: Promise<void> | null = null;
  private readsStarted = 0;
  private readApplied = 0;
  private readonly slots: Versioned<unknown>[] = [];
  /** The last valuation of each pledge with what it was made of (compared by identity: cached parts are shared). */
  private readonly valued = new Map<string, Valued>();
  private readonly maxEntries: number;
  private lastIso = { ms: Number.NaN, iso: '' };
  private readonly keys: Versioned<ApiKeyRecord | null>;
  private readonly pledges: Versioned<Pledge | null>;
  private readonly readers: Versioned<ReaderIsUp>;
  private readonly markets: Versioned<Market>;
  private readonly statuses: Versioned<ValuationStatus | null>;
  private readonly quantities: Versioned<Quantities>;

  constructor(
    private readonly store: CacheSource,
    opts: StateCacheOptions = {},
  ) {
    const max = opts.maxEntries ?? 200_000;
    this.maxEntries = max;
    const slot = <T>(name: string, kinds: readonly ChangeKind[], keepNull: boolean) => {
      const made = new Versioned<T>(name, kinds, max, keepNull);
      this.slots.push(made);
      return made;
    };
    // Misses of keys and pledges are not kept: probing with made-up ids would only push good entries out.
    this.keys = slot('api_key', ['api_keys'], false);
    this.pledges = slot('pledge', ['pledges'], false);
    this.readers = slot('readers', ['readers'], true);
    this.markets = slot('market', ['prices', 'fx'], true);
    this.statuses = slot('status', ['statuses'], true);
    this.quantities = slot('quantities', ['tags', 'readers', 'releases', 'pledges'], true);
    if (opts.registry !== undefined) lookupCounter(opts.registry, this.slots);
  }

  /**
   * Reads the change counters: call at the start of each request, before any lookup. Requests that
   * start in one turn of the event loop share one read: they were all received before that turn's I/O
   * poll returned, so a read made during the turn is no older than any of them. The next turn reads again.
   */
  refresh(): Promise<void> {
    if (this.reading === null) {
      this.reading = this.read();
      setImmediate(() => {
        this.reading = null;
      });
    }
    return this.reading;
  }

  private async read(): Promise<void> {
    const seq = ++this.readsStarted;
    const read = await this.store.changeVersions();
    // Reads may complete out of order (a pool of connections). One that started later is fresh enough
    // for the requests waiting on an earlier one, not the other way round.
    if (seq < this.readApplied) return;
    this.readApplied = seq;
    const latest = this.latest;
    if (latest !== null && CHANGE_KINDS.some((k) => read[k] < latest[k])) {
      // Counters only grow: going back means another database (restored, failed over). Trust nothing kept.
      for (const slot of this.slots) slot.clear();
      this.valued.clear();
    }
    if (latest === null || CHANGE_KINDS.some((k) => read[k] !== latest[k])) this.latest = read;
  }

  apiKey(hash: string): Promise<ApiKeyRecord | null> {
    return this.withVersions((v) => this.keys.get(hash, v, () => this.store.findApiKeyByHash(hash)));
  }

  pledge(tenant: string, id: string): Promise<Pledge | null> {
    return this.withVersions((v) => this.pledges.get(`${tenant}\u0000${id}`, v, () => this.store.getPledge(tenant, id)));
  }

  /** Reader health for quantities, shared by every pledge. */
  readerIsUp(): Promise<ReaderIsUp> {
    return this.withVersions((v) => this.readers.get('', v, () => loadReaderAvailability(this.store)));
  }

  /** The same valuation as `liveValuation(store, pledge, now, opts)`, from cached parts. */
  valuation(pledge: Pledge, now: number, opts: Pick<LiveValuationOptions, 'maxPriceAgeMs' | 'maxPriceAgeByCommodityMs'> = {}): Promise<Valuation> {
    return this.withVersions((v) => {
      const quantities = this.quantities.get(pledge.id, v, async () => (await loadQuantities(this.store, pledge, this.readerIsUp())).quantities);
      const market = this.markets.get(`${pledge.commodity}\u0000${pledge.loan.currency}`, v, () => loadMarket(this.store, pledge.commodity, pledge.loan.currency));
      const status = this.statuses.get(pledge.id, v, () => this.store.getPledgeStatus(pledge.id));
      // On hits all three are at hand: no promise to wait for.
      if (quantities instanceof Promise || market instanceof Promise || status instanceof Promise) {
        return Promise.all([quantities, market, status]).then(([q, m, s]) => this.value(pledge, q, m, s, now, opts));
      }
      return this.value(pledge, quantities, market, status, now, opts);
    });
  }

  /** Values from the parts, or takes the last valuation of the same parts when only `at` would differ. */
  private value(
    pledge: Pledge,
    quantities: Quantities,
    market: Market,
    previousStatus: ValuationStatus | null,
    now: number,
    opts: Pick<LiveValuationOptions, 'maxPriceAgeMs' | 'maxPriceAgeByCommodityMs'>,
  ): Valuation {
    const maxPriceAgeMs = maxPriceAgeOf(pledge, opts);
    const memo = this.valued.get(pledge.id);
    if (
      memo !== undefined &&
      memo.pledge === pledge &&
      memo.quantities === quantities &&
      memo.market === market &&
      memo.previousStatus === previousStatus &&
      memo.maxPriceAgeMs === maxPriceAgeMs &&
      // The one way time changes a valuation besides `at`: its price turning stale.
      (memo.staleAfter === null || (memo.staleAfter < memo.at) === (memo.staleAfter < now))
    ) {
      return { ...memo.valuation, at: this.isoTime(now) };
    }
    const valuation = valueParts(pledge, { quantities, ...market, previousStatus }, now, opts);
    const staleAfter = market.price === null ? null : priceStaleAfter(market.price, maxPriceAgeMs);
    if (memo === undefined && this.valued.size >= this.maxEntries) this.valued.delete(this.valued.keys().next().value as string);
    this.valued.set(pledge.id, { pledge, quantities, market, previousStatus, maxPriceAgeMs, staleAfter, at: now, valuation });
    return valuation;
  }

  /** isoTime, remembered for the last millisecond asked: at thousands of answers a second, many share one. */
  private isoTime(ms: number): string {
    if (ms !== this.lastIso.ms) this.lastIso = { ms, iso: isoTime(ms) };
    return this.lastIso.iso;
  }

  /** Runs `use` with the counters as last read (reading them first if never read), as a promise. */
  private withVersions<T>(use: (versions: ChangeVersions) => T | Promise<T>): Promise<T> {
    const latest = this.latest;
    if (latest === null) return this.refresh().then(() => use(this.latest as ChangeVersions));
    try {
      const result = use(latest);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/**
 * Lookups by entry kind and outcome: the hit ratio tells whether the cache earns its keep. Counted in
 * plain numbers and handed to prom-client when scraped: labelled increments hash their labels each time.
 */
function lookupCounter(registry: Registry, slots: readonly Versioned<unknown>[]): void {
  const name = 'pledgewatch_api_cache_lookups_total';
  // A second app on the same registry (tests) takes the metric over: the newest app's counts are shown.
  registry.removeSingleMetric(name);
  new Counter({
    name,
    help: 'Lookups in monitor-api’s state cache, by entry kind and result (hit, or miss: loaded from the store)',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const slot of slots) {
        this.inc({ cache: slot.name, result: 'hit' }, slot.hits);
        this.inc({ cache: slot.name, result: 'miss' }, slot.misses);
      }
    },
  });
}

/**
 * Values by key, each good while the counters of `kinds` read as they did before it was loaded. The
 * stamp is their sum: counters only grow, so the sum moves exactly when one of them does (and when
 * they go back, the cache is cleared: see StateCache.read).
 */
class Versioned<T> {
  private readonly entries = new Map<string, { stamp: number; promise: Promise<T>; settled: boolean; value: T | undefined }>();
  hits = 0;
  misses = 0;

  constructor(
    readonly name: string,
    private readonly kinds: readonly ChangeKind[],
    private readonly max: number,
    private readonly keepNull: boolean,
  ) {}

  clear(): void {
    this.entries.clear();
  }

  /** The value, at once when loaded already, else the promise of its load (shared by concurrent callers). */
  get(key: string, versions: ChangeVersions, load: () => Promise<T>): T | Promise<T> {
    let stamp = 0;
    for (const kind of this.kinds) stamp += versions[kind];
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.stamp === stamp) {
      this.hits++;
      return entry.settled ? (entry.value as T) : entry.promise;
    }
    this.misses++;
    const promise = load();
    const fresh = { stamp, promise, settled: false, value: undefined as T | undefined };
    if (entry === undefined && this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, fresh);
    const forget = () => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    };
    promise.then(
      (value) => {
        fresh.value = value;
        fresh.settled = true;
        if (value === null && !this.keepNull) forget();
      },
      forget,
    );
    return promise;
  }
}
