import type { Command } from 'commander';
import { CENTRAL_KEYS, describeKeys, loadCentralConfig, type CentralConfig, type CentralKey } from '../config.ts';
import { openStores, startCentral } from '../central.ts';
import { makeLogger } from '../logger.ts';
import { createApiKey, createMqttAccount, mosquittoFiles } from '../provision.ts';
import { runUntilSignalled } from '@pledgewatch/common/lifecycle';

/** Adds `--config FILE` and one flag per configuration key. */
export function withCentralOptions(cmd: Command, keys: readonly CentralKey[] = Object.keys(CENTRAL_KEYS) as CentralKey[]): Command {
  cmd.option('-c, --config <file>', 'JSON configuration file');
  for (const key of keys) {
    const spec = CENTRAL_KEYS[key];
    cmd.option(`${spec.flag} <value>`, `${spec.description} (env ${spec.env})`);
  }
  return cmd;
}

export function centralConfigFrom(opts: Record<string, unknown>): CentralConfig {
  const flags: Partial<Record<CentralKey, unknown>> = {};
  for (const key of Object.keys(CENTRAL_KEYS) as CentralKey[]) if (opts[key] !== undefined) flags[key] = opts[key];
  return loadCentralConfig({ file: opts.config as string | undefined, env: process.env, flags });
}

/** A part of the process died (ingest's worker): drain the rest and exit non-zero for the supervisor. */
export function fatalShutdown(): void {
  process.exitCode = 1;
  process.kill(process.pid, 'SIGTERM');
}

export function registerCentralCommands(program: Command): void {
  withCentralOptions(
    program
      .command('start')
      .description('run the central side (broker, ingest, HTTP API) on embedded defaults')
      .addHelpText('after', `\nConfiguration keys (file key, environment, flag, default):\n${describeKeys()}`),
  ).action(async (opts: Record<string, unknown>) => {
    const config = centralConfigFrom(opts);
    const logger = makeLogger(config.logLevel);
    const central = await startCentral(config, logger, { onFatal: fatalShutdown });
    await runUntilSignalled(logger, () => central.stop());
  });

  const apikey = program.command('apikey').description('manage lenders\' API keys');
  withCentralOptions(
    apikey
      .command('create')
      .description('create an API key for a tenant (a lender); prints it as the last line')
      .requiredOption('--tenant <name>', 'tenant the key belongs to'),
    ['dataDir'],
  ).action(async (opts: Record<string, unknown>) => {
    const config = centralConfigFrom(opts);
    const { store, series } = await openStores(config);
    try {
      const key = await createApiKey(store, opts.tenant as string);
      process.stdout.write(`API key for tenant ${String(opts.tenant)} (shown once, keep it safe):\n${key}\n`);
    } finally {
      await series.close();
      await store.close();
    }
  });

  const account = (kind: 'gateway' | 'feed', parent: Command, describe: string) => {
    const cmd = parent.command('create <id>').description(describe);
    if (kind === 'gateway') cmd.requiredOption('--site <site>', 'site (warehouse) the gateway stands at');
    withCentralOptions(cmd, ['dataDir', 'mosquittoPasswordFile', 'mosquittoAclFile']).action(async (id: string, opts: Record<string, unknown>) => {
      const config = centralConfigFrom(opts);
      const mosquitto = mosquittoFiles(config);
      const { store, series } = await openStores(config);
      try {
        const password = await createMqttAccount(store, id, kind, kind === 'gateway' ? (opts.site as string) : null, { mosquitto });
        if (mosquitto !== undefined) process.stderr.write(mosquittoReloadHint(mosquitto.passwordFile));
        process.stdout.write(`MQTT username: ${id}\nMQTT password (shown once):\n${password}\n`);
      } finally {
        await series.close();
        await store.close();
      }
    });
  };
  account(
    'gateway',
    program.command('gateway').description('manage warehouse gateways'),
    'register a gateway at a site; prints its MQTT password as the last line (username = id)',
  );
  account(
    'feed',
    program.command('feed').description('manage price feeds'),
    'register a price feed allowed to publish pw/v1/prices/#; prints its MQTT password as the last line',
  );
}

/** Mosquitto reads its files at start and on SIGHUP only; said on stderr so stdout's last line stays the password. */
export function mosquittoReloadHint(passwordFile: string): string {
  return `Added to ${passwordFile} and its ACL file. Mosquitto rereads them on SIGHUP: kill -HUP $(pidof mosquitto), or docker compose kill -s SIGHUP mosquitto\n`;
}
