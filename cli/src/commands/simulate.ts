import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openStores, startCentral } from '../central.ts';
import { CENTRAL_KEYS, centralRoles, ConfigError } from '../config.ts';
import { demoCredentials, runDemoWorld } from '../demo.ts';
import { makeLogger } from '../logger.ts';
import { mosquittoFiles } from '../provision.ts';
import { runUntilSignalled } from '@pledgewatch/common/lifecycle';
import { centralConfigFrom, fatalShutdown, mosquittoReloadHint, withCentralOptions } from './central.ts';

const out = (text: string) => process.stdout.write(`${text}\n`);

export function registerSimulateCommands(program: Command): void {
  withCentralOptions(
    program
      .command('simulate')
      .description('run a simulated warehouse, price feed and scenario against a running central side')
      .option('--api-url <url>', 'the central HTTP API', 'http://127.0.0.1:8080')
      .option('--setup-only', "register the demo gateway, feed and API key (and their Mosquitto entries), then exit: for a broker that must know them before it starts"),
    ['dataDir', 'mqttUrl', 'logLevel', 'mosquittoPasswordFile', 'mosquittoAclFile'],
  ).action(async (opts: Record<string, unknown>) => {
    const config = centralConfigFrom({ logLevel: 'warn', ...opts });
    const logger = makeLogger(config.logLevel, 'stderr');
    const mosquitto = mosquittoFiles(config);
    // Gateways and the feed are registered in the central side's data dir, as `gateway create` would.
    const { store, series } = await openStores(config);
    if (opts.setupOnly === true) {
      try {
        await demoCredentials(store, config.dataDir, mosquitto);
        if (mosquitto !== undefined) process.stderr.write(mosquittoReloadHint(mosquitto.passwordFile));
        out(`demo accounts ready in ${config.dataDir}`);
      } finally {
        await series.close();
        await store.close();
      }
      return;
    }
    const run = await runDemoWorld({
      mosquitto,
      store,
      dataDir: config.dataDir,
      apiUrl: (opts.apiUrl as string).replace(/\/$/, ''),
      mqttUrl: config.mqttUrl ?? 'mqtt://127.0.0.1:1883',
      logger,
      out,
    });
    await runUntilSignalled(logger, async () => {
      await run.stop();
      await series.close();
      await store.close();
    });
  });

  withCentralOptions(
    program
      .command('demo')
      .description('start the central side with a simulated warehouse and watch live values and LTV change'),
  ).action(async (opts: Record<string, unknown>) => {
    const dataDir = (opts.dataDir as string | undefined) ?? mkdtempSync(join(tmpdir(), 'pledgewatch-demo-'));
    const config = centralConfigFrom({ logLevel: 'warn', ...opts, dataDir });
    const roles = centralRoles(config);
    if (!roles.has('api') || !roles.has('ingest')) {
      throw new ConfigError([`${CENTRAL_KEYS.roles.env}: the demo needs at least api and ingest in its process (it has ${[...roles].join(', ')})`]);
    }
    const logger = makeLogger(config.logLevel, 'stderr');
    const central = await startCentral(config, logger, { onFatal: fatalShutdown });
    out(`PledgeWatch demo: API ${central.apiUrl}, MQTT ${central.mqttUrl}, data in ${dataDir}`);
    const run = await runDemoWorld({ store: central.store, dataDir, apiUrl: central.apiUrl, mqttUrl: central.mqttUrl, logger, out });
    out('Ctrl-C stops everything.');
    await runUntilSignalled(logger, async () => {
      await run.stop();
      await central.stop();
    });
  });
}
