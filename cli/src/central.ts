/**
 * The composition root of the central side: stores, broker, ingest, webhook delivery and API in one
 * process on the embedded defaults (or an external broker with PW_MQTT_URL, PostgreSQL with
 * PW_DATABASE_URL), or only some of them (PW_ROLES) in each of several processes on one database.
 * Adapters are chosen here and nowhere else. Ingest runs on a worker thread with its own store
 * connections, so the broker and the API keep a core.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redactUrl, type SigningKey, INGEST_TOPICS } from '@pledgewatch/common';
import {
  IngestHandover,
  reconcileShardSessions,
  startEmbeddedBroker,
  startIngestWorker,
  type EmbeddedBroker,
  type IngestWorker,
} from '@pledgewatch/ingest';
import { buildApp, loadOrCreateSigningKey, startApi } from '@pledgewatch/monitor-api';
import { AddressGuard, Dispatcher } from '@pledgewatch/webhooks';
import {
  claimSingleRole,
  openSeriesStore,
  newWriteLock,
  openStateStore,
  openWebhookStore,
  type SeriesStore,
  type SeriesStoreSpec,
  type StateStore,
  type StateStoreSpec,
} from '@pledgewatch/store';
import type { Logger } from 'pino';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import { centralRoles, maxPriceAgesByCommodityS, signingKeyPath, type CentralConfig, type Role } from './config.ts';

export interface Central {
  apiUrl: string;
  /** The broker ingest reads (the embedded one, or PW_MQTT_URL); throws in a process without ingest. */
  readonly mqttUrl: string;
  /** What this process runs (PW_ROLES). */
  roles: ReadonlySet<Role>;
  store: StateStore;
  /** Drains in order: stop taking HTTP requests, finish the MQTT message in hand, flush series, close stores. */
  stop(): Promise<void>;
}

/**
 * The adapters config selects: SQLite under the data dir by default, InfluxDB for series with
 * PW_INFLUX_URL, PostgreSQL for state with PW_DATABASE_URL.
 */
export function storeSpecs(config: Pick<CentralConfig, 'dataDir' | 'influxUrl' | 'databaseUrl'>): { state: StateStoreSpec; series: SeriesStoreSpec } {
  mkdirSync(config.dataDir, { recursive: true });
  return {
    // A SQLite file's writers in this process (API, ingest's shards, the dispatcher) take turns through a lock of their own.
    state: config.databaseUrl === undefined ? { kind: 'sqlite', path: join(config.dataDir, 'state.db'), writeLock: newWriteLock() } : { kind: 'postgres', url: config.databaseUrl },
    series: config.influxUrl === undefined ? { kind: 'sqlite', path: join(config.dataDir, 'series.db'), writeLock: newWriteLock() } : { kind: 'influx', url: config.influxUrl },
  };
}

export async function openStores(config: Pick<CentralConfig, 'dataDir' | 'influxUrl' | 'databaseUrl'>): Promise<{ store: StateStore; series: SeriesStore }> {
  const specs = storeSpecs(config);
  const store = await openStateStore(specs.state);
  return { store, series: openSeriesStore(specs.series) };
}

export async function startCentral(config: CentralConfig, logger: Logger, opts: { onFatal?: () => void } = {}): Promise<Central> {
  const roles = centralRoles(config);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const specs = storeSpecs(config);
  const guard = new AddressGuard({ allow: allowList(config.webhookAllow) });
  // What has started, stopped in reverse order: at stop, or when a later part fails to start.
  const started: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of started.splice(0).reverse()) await stop();
  };
  try {
    const store = await openStateStore(specs.state);
    started.push(() => store.close());
    // The dispatcher runs on ingest's worker thread when this process runs ingest, else on this one.
    const dispatchHere = roles.has('webhooks') && !roles.has('ingest');
    const webhooks = roles.has('api') || dispatchHere ? await openWebhookStore(specs.state) : null;
    if (webhooks !== null) started.push(() => webhooks.close());
    const ingest = roles.has('ingest') ? await startIngest(config, specs, roles, { store, registry, logger, started, onFatal: opts.onFatal }) : null;
    if (dispatchHere && webhooks !== null) {
      const dispatcher = new Dispatcher({ store: webhooks, feed: store, guard, logger, registry, exclusive: specs.state.kind === 'sqlite' });
      dispatcher.start();
      started.push(() => dispatcher.stop());
    }
    const signingKey = roles.has('api') ? loadSigningKey(config, logger) : undefined;
    // The API reads history from the series store ingest writes, through a connection of its own.
    const series = roles.has('api') ? openSeriesStore(specs.series, { log: logger.child({ component: 'series' }) }) : null;
    if (series !== null) started.push(() => series.close());
    const app = buildApp({
      store,
      logger,
      registry,
      signingKey,
      maxPriceAgeMs: config.maxPriceAgeS * 1000,
      maxPriceAgeByCommodityMs: Object.fromEntries(Object.entries(maxPriceAgesByCommodityS(config)).map(([c, s]) => [c, s * 1000])),
      lenderRoutes: roles.has('api'),
      ...(series === null ? {} : { series }),
      ...(webhooks === null || !roles.has('api') ? {} : { webhooks: { store: webhooks, guard } }),
      ...(ingest === null
        ? {}
        : {
            ready: () => Promise.resolve(ingest.worker.isConnected() ? null : 'ingest is not connected to the MQTT broker'),
            metrics: async () => AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), await ingest.worker.metrics()]).metrics(),
          }),
    });
    const { url: apiUrl } = await startApi(app, { host: config.httpHost, port: config.httpPort });
    started.push(() => app.close());
    const mqttUrl = ingest?.mqttUrl ?? null;
    logger.info(
      { apiUrl, roles: [...roles], mqttUrl: mqttUrl === null ? undefined : redactUrl(mqttUrl), state: specs.state.kind, series: specs.series.kind, dataDir: config.dataDir },
      'PledgeWatch central side running',
    );

    return {
      apiUrl,
      get mqttUrl() {
        if (mqttUrl === null) throw new Error(`this process runs no ingest (roles: ${[...roles].join(', ')}), so it reads no MQTT broker`);
        return mqttUrl;
      },
      roles,
      store,
      async stop() {
        await stopAll();
        logger.info('central side stopped');
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Ingest on its worker thread (with the webhook dispatcher when this process runs that role too), and
 * the embedded broker it reads when the process runs that. Holds the database's one ingest lock
 * while it runs: losing it stops the process (onFatal).
 */
async function startIngest(
  config: CentralConfig,
  specs: ReturnType<typeof storeSpecs>,
  roles: ReadonlySet<Role>,
  deps: { store: StateStore; registry: Registry; logger: Logger; started: (() => Promise<void>)[]; onFatal: (() => void) | undefined },
): Promise<{ worker: IngestWorker; mqttUrl: string }> {
  const { logger, started } = deps;
  const claim = await claimSingleRole(specs.state, 'ingest');
  started.push(() => claim.release());
  void claim.lost.then((err) => {
    logger.fatal({ err }, 'ingest lock lost; stopping so that another process can take over');
    deps.onFatal?.();
  });
  let mqttUrl = config.mqttUrl;
  let broker: EmbeddedBroker | undefined;
  let handover: IngestHandover | undefined;
  if (roles.has('broker')) {
    // Ingest takes the embedded broker's messages in-process, each shard its own sites' (handover.ts).
    handover = await IngestHandover.open(deps.store, config.ingestWorkers);
    broker = await startEmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, store: deps.store, logger, registry: deps.registry, handover });
    const embedded = broker;
    started.push(() => embedded.close());
    mqttUrl = broker.url;
  }
  // The configuration refuses ingest without a broker to read (resolveRoles).
  if (mqttUrl === undefined) throw new Error('ingest has no MQTT broker: set PW_MQTT_URL or add broker to PW_ROLES');
  // On an external broker each worker is a shard of the sites with a broker session of its own
  // (an external broker's ingest account names it, Mosquitto: use_username_as_clientid): a new count
  // moves sites between sessions (see reconcileShardSessions).
  const mqtt = handover === undefined ? { url: mqttUrl, clientId: serviceClientId(mqttUrl), topics: [...INGEST_TOPICS] } : undefined;
  const previous = await deps.store.recordIngestShards(config.ingestWorkers);
  await reconcileShardSessions({ mqtt, previous, workers: config.ingestWorkers, logger });
  const worker = await startIngestWorker({
    ...specs,
    ...(mqtt === undefined ? {} : { mqtt }),
    ...(handover === undefined ? {} : { handover }),
    logLevel: config.logLevel,
    workers: config.ingestWorkers,
    ...(roles.has('webhooks') ? { webhooks: { allow: allowList(config.webhookAllow) } } : {}),
    rules: {
      confirmationDelayS: config.alertConfirmationDelayS,
      holdS: config.alertHoldS,
      damageHoldS: config.damageHoldS,
      heartbeatIntervalS: config.gatewayHeartbeatS,
      // The same maximum price ages as the API's, so PRICE_STALE and GET …/value agree.
      maxPriceAgeS: config.maxPriceAgeS,
      maxPriceAgeByCommodityS: maxPriceAgesByCommodityS(config),
    },
    logger,
    onExit: () => deps.onFatal?.(),
  });
  started.push(async () => {
    // The embedded broker stops taking messages first, so that ingest handles all it was handed
    // (gateways were told those were taken) before it stops.
    await broker?.close();
    await handover?.drained(DRAIN_TIMEOUT_MS);
    await worker.stop();
  });
  return { worker, mqttUrl };
}

/** How long a stop waits for ingest to handle what the embedded broker handed it. */
const DRAIN_TIMEOUT_MS = 15_000;

function serviceClientId(mqttUrl: string): string {
  const user = URL.canParse(mqttUrl) ? decodeURIComponent(new URL(mqttUrl).username) : '';
  return user === '' ? 'pw-ingest' : user;
}

function allowList(csv: string): string[] {
  return csv.split(',').map((e) => e.trim()).filter((e) => e !== '');
}

/** The certificate signing key, made at first start; its id is logged so an operator can match certificates to it. */
function loadSigningKey(config: CentralConfig, logger: Logger): SigningKey {
  const loaded = loadOrCreateSigningKey(signingKeyPath(config));
  for (const warning of loaded.warnings) logger.warn({ path: loaded.path }, warning);
  logger.info({ keyId: loaded.key.keyId, path: loaded.path }, loaded.created ? 'certificate signing key created' : 'certificate signing key loaded');
  return loaded.key;
}
