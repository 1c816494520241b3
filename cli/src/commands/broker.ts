/** `pledgewatch broker-user create NAME`: ingest's service account on an external Mosquitto. */
import { Option, type Command } from 'commander';
import { PwError } from '@pledgewatch/common';
import { openStores } from '../central.ts';
import { createBrokerUser, mosquittoFiles, type ServiceRole } from '../provision.ts';
import { centralConfigFrom, mosquittoReloadHint, withCentralOptions } from './central.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerBrokerCommands(program: Command): void {
  const user = program.command('broker-user').description("manage service accounts on an external Mosquitto (ingest's own login)");
  withCentralOptions(
    user
      .command('create <name>')
      .description('add (or give a new password to) a broker service account; prints its password as the last line')
      .addOption(new Option('--role <role>', 'service: ingest, reads pw/v1/#; monitor: health checks, reads $SYS/#').choices(['service', 'monitor']).default('service'))
      .option('--password-stdin', 'take the password from stdin instead of generating one (at least 16 characters)')
      .addHelpText(
        'after',
        '\nIngest then connects with PW_MQTT_URL=mqtt://NAME:PASSWORD@broker:1883 (URL-encode the password).\n' +
          'Needs PW_MOSQUITTO_PASSWORD_FILE and PW_MOSQUITTO_ACL_FILE; reload Mosquitto (SIGHUP) afterwards.',
      ),
    ['dataDir', 'mosquittoPasswordFile', 'mosquittoAclFile'],
  ).action(async (name: string, opts: Record<string, unknown>) => {
    const config = centralConfigFrom(opts);
    const mosquitto = mosquittoFiles(config);
    if (mosquitto === undefined) {
      throw new PwError('VALIDATION', 'broker-user create writes Mosquitto\'s files: set PW_MOSQUITTO_PASSWORD_FILE and PW_MOSQUITTO_ACL_FILE (or --mosquitto-password-file and --mosquitto-acl-file)');
    }
    const password = opts.passwordStdin === true ? await readStdin() : undefined;
    // The state store is opened only to refuse a name that a gateway or feed already has.
    const { store, series } = await openStores(config);
    try {
      const secret = await createBrokerUser(store, name, mosquitto, { role: opts.role as ServiceRole, ...(password === undefined ? {} : { password }) });
      process.stderr.write(mosquittoReloadHint(mosquitto.passwordFile));
      process.stdout.write(`MQTT username: ${name}\nMQTT password${password === undefined ? ' (shown once)' : ''}:\n${secret}\n`);
    } finally {
      await series.close();
      await store.close();
    }
  });
}
