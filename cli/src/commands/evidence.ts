/** `pledgewatch verify-audit` and `pledgewatch verify-certificate`: checking evidence offline. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PwError, signingKeyFromPem, verifySignedCertificate, type PublicKeys } from '@pledgewatch/common';
import { openAuditReader, type StateStoreSpec } from '@pledgewatch/store';
import { signingKeyPath } from '../config.ts';
import { loadPublicKeys, verifyAuditTrail } from '../evidence.ts';
import { centralConfigFrom, withCentralOptions } from './central.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerEvidenceCommands(program: Command): void {
  withCentralOptions(
    program
      .command('verify-audit')
      .description('check the audit chain of every pledge offline (read-only); exit 1 if any record was edited, inserted or deleted')
      .option('--pledge <id>', 'check this pledge only')
      .addHelpText(
        'after',
        '\nReads state.db in the data dir (read-only, safe while the central side runs), or PostgreSQL with\n' +
          '--database-url. Prints OK or FAILED per pledge, and under a failed one what is wrong: a record edited\n' +
          '(hash mismatch), records deleted (seq gap), a record inserted (prevHash mismatch), a deleted tail\n' +
          '(the head says more records than the chain holds).',
      ),
    ['dataDir', 'databaseUrl'],
  ).action(async (opts: Record<string, unknown>) => {
    const config = centralConfigFrom(opts);
    const spec: StateStoreSpec =
      config.databaseUrl === undefined ? { kind: 'sqlite', path: join(config.dataDir, 'state.db') } : { kind: 'postgres', url: config.databaseUrl };
    let reader;
    try {
      reader = await openAuditReader(spec);
    } catch (err) {
      throw new PwError('VALIDATION', (err as Error).message);
    }
    try {
      const report = await verifyAuditTrail(reader, (line) => process.stdout.write(`${line}\n`), opts.pledge as string | undefined);
      if (report.failed > 0) process.exitCode = 1;
    } finally {
      await reader.close();
    }
  });

  withCentralOptions(
    program
      .command('verify-certificate <file>')
      .description('check a saved certificate (GET /v1/pledges/{id}/certificate) offline; exit 1 saying what failed')
      .option('--key <file>', 'public key: the saved GET /v1/keys answer, a JWK or JWK set, or a PEM (repeatable)', collect, [])
      .option('--keys-url <url>', 'fetch the public keys from a running API instead (e.g. http://127.0.0.1:8080/v1/keys)', collect, [])
      .addHelpText(
        'after',
        '\nWithout --key or --keys-url, the public half of this installation\'s own signing key is used\n' +
          '(PW_SIGNING_KEY_FILE, else signing-key.pem in the data dir). Example:\n' +
          '  curl -s -H "Authorization: Bearer $KEY" $API/v1/pledges/PL-1/certificate > cert.json\n' +
          '  curl -s $API/v1/keys > keys.json\n' +
          '  pledgewatch verify-certificate cert.json --key keys.json',
      ),
    ['dataDir', 'signingKeyFile'],
  ).action(async (file: string, opts: Record<string, unknown>) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PwError('VALIDATION', `cannot read ${file}: ${(err as Error).message}`);
    }
    const files = opts.key as string[];
    const urls = opts.keysUrl as string[];
    const keys = files.length + urls.length > 0 ? await loadPublicKeys(files, urls) : ownPublicKey(opts);
    const check = verifySignedCertificate(text, keys);
    if (!check.ok) {
      process.stdout.write(`FAILED: ${check.reason}\n`);
      process.exitCode = 1;
      return;
    }
    const { id, issuedAt, pledge } = check.certificate as { id?: unknown; issuedAt?: unknown; pledge?: { id?: unknown } };
    process.stdout.write(`OK: certificate ${String(id)} of pledge ${String(pledge?.id)}, issued ${String(issuedAt)}, signed by key ${check.keyId}\n`);
  });
}

/** The public half of this installation's signing key: for an operator checking a certificate on the central machine. */
function ownPublicKey(opts: Record<string, unknown>): PublicKeys {
  const path = signingKeyPath(centralConfigFrom(opts));
  if (!existsSync(path)) {
    throw new PwError('VALIDATION', `give --key FILE (the saved GET /v1/keys answer, a JWK or a PEM) or --keys-url URL; there is no signing key at ${path} either`);
  }
  const key = signingKeyFromPem(readFileSync(path, 'utf8'), path);
  process.stderr.write(`checking with the public key of ${path} (key id ${key.keyId})\n`);
  return new Map([[key.keyId, key.publicKey]]);
}
