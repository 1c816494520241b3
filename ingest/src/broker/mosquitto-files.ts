/**
 * Mosquitto's password and ACL files, kept in step with the accounts PledgeWatch hands out, so an
 * external Mosquitto enforces what the embedded broker does (embedded.ts): a gateway may publish
 * only under pw/v1/gw/{its id}/, a price feed only to pw/v1/prices/{commodity}, ingest reads pw/v1/#.
 * Files are rewritten whole (temp file + rename) so Mosquitto never reads half a file; it reads them
 * at start and on SIGHUP only.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isId, PwError } from '@pledgewatch/common';

export interface MosquittoFiles {
  passwordFile: string;
  aclFile: string;
}

/**
 * gateway and feed as in the state store; service = ingest's own account, which reads everything;
 * monitor = health checks and exporters, which read the broker's own $SYS statistics only.
 */
export type BrokerRole = 'gateway' | 'feed' | 'service' | 'monitor';

/**
 * Mosquitto 2.0's `$7$` hash: PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte key, base64. 101 iterations
 * is mosquitto_passwd's own default: generated passwords are 192 random bits, which stretching cannot
 * strengthen, while every (re)connect pays for it.
 */
export function mosquittoHash(password: string, iterations = 101, salt: Buffer = randomBytes(12)): Promise<string> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, 64, 'sha512', (err, key) =>
      err ? reject(err) : resolve(`$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`),
    );
  });
}

export function aclRules(username: string, role: BrokerRole): string[] {
  switch (role) {
    case 'gateway':
      return [`topic write pw/v1/gw/${username}/#`];
    case 'feed':
      return ['topic write pw/v1/prices/+', 'topic write pw/v1/prices/fx/+/+'];
    case 'service':
      return ['topic read pw/v1/#'];
    case 'monitor':
      return ['topic read $SYS/#'];
  }
}

const PASSWORD_HEADER = '# Mosquitto password file, maintained by `pledgewatch … create`. Reload Mosquitto (SIGHUP) after changes.\n';
const ACL_HEADER =
  '# Mosquitto ACL file, maintained by `pledgewatch … create`: one `user` block per account.\n' +
  '# Anything not granted here is refused. Reload Mosquitto (SIGHUP) after changes.\n';

/**
 * Adds (or with `replace`, replaces) an account in both files. Without `replace`, a user name that is
 * already in the password file is refused: a gateway must never take over another account's entry.
 */
export async function upsertMosquittoAccount(
  files: MosquittoFiles,
  account: { username: string; password: string; role: BrokerRole },
  opts: { replace?: boolean } = {},
): Promise<void> {
  const { username } = account;
  if (!isId(username)) throw new PwError('VALIDATION', `MQTT user name "${username}" must match [A-Za-z0-9._-]{1,64}`);
  const passwd = await readText(files.passwordFile);
  const acl = await readText(files.aclFile);
  const lines = passwd.split('\n').filter((l) => l !== '');
  const at = lines.findIndex((l) => l.startsWith(`${username}:`));
  if (at >= 0 && opts.replace !== true) {
    throw new PwError('ACCOUNT_EXISTS', `"${username}" already has an entry in ${files.passwordFile}; remove it there first`);
  }
  const entry = `${username}:${await mosquittoHash(account.password)}`;
  if (at >= 0) lines[at] = entry;
  else lines.push(entry);
  const body = lines.filter((l) => !l.startsWith('#')).join('\n');
  // The password file first: an account without ACL rules may log in but do nothing, never more.
  await writeAtomically(files.passwordFile, `${PASSWORD_HEADER}${body}\n`);
  await writeAtomically(files.aclFile, withUserBlock(acl === '' ? ACL_HEADER : acl, username, aclRules(username, account.role)));
}

/** Replaces the `user NAME` block (its lines up to the next `user` line) or appends one. */
export function withUserBlock(acl: string, username: string, rules: string[]): string {
  const preamble: string[] = [];
  const blocks: { user: string; lines: string[] }[] = [];
  for (const line of acl.split('\n')) {
    const user = /^user\s+(\S+)\s*$/.exec(line)?.[1];
    if (user !== undefined) blocks.push({ user, lines: [] });
    else (blocks.at(-1)?.lines ?? preamble).push(line);
  }
  const mine = blocks.find((b) => b.user === username);
  if (mine === undefined) blocks.push({ user: username, lines: rules });
  else mine.lines = rules;
  const trim = (lines: string[]) => {
    const copy = [...lines];
    while (copy.length > 0 && copy.at(-1)?.trim() === '') copy.pop();
    return copy;
  };
  const out = trim(preamble);
  for (const b of blocks) {
    if (out.length > 0) out.push('');
    out.push(`user ${b.user}`, ...trim(b.lines));
  }
  return `${out.join('\n')}\n`;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new PwError('VALIDATION', `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Keeps the file's mode (who may read it is the operator's choice: Mosquitto may run as another user). */
async function writeAtomically(path: string, text: string): Promise<void> {
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o640);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, text, { mode });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (err) {
    throw new PwError('VALIDATION', `cannot write ${path}: ${(err as Error).message}`);
  }
}
