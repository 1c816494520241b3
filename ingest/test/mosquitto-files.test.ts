/** Mosquitto's password and ACL files as PledgeWatch writes them (the real broker reads them in mosquitto.test.ts). */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mosquittoHash, upsertMosquittoAccount } from '../src/index.ts';
import { withUserBlock } from '../src/broker/mosquitto-files.ts';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-mosquitto-files-');
});
afterEach(() => dir.remove());

describe('Mosquitto password and ACL files', () => {
  it('hashes as mosquitto_passwd 2.0 does ($7$, PBKDF2-SHA512)', async () => {
    // Written by `mosquitto_passwd -c -b passwd alice secret` (Mosquitto 2.0.11).
    const salt = Buffer.from('QLqxPPsWM7rxThr5', 'base64');
    expect(await mosquittoHash('secret', 101, salt)).toBe(
      '$7$101$QLqxPPsWM7rxThr5$91gGW7fe+SOkGsnRST8KAVMgDq47VlR/FRPZ7zekWE4IIvoT9FWHbq9i7DLgetE0wx3ZVXn9TlNDCe44pHSPwA==',
    );
    expect(await mosquittoHash('secret')).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  });

  it('gives each account its own ACL block and keeps what else is in the files', async () => {
    const files = { passwordFile: dir.file('passwd'), aclFile: dir.file('acl') };
    writeFileSync(files.aclFile, '# hand-written\npattern read $SYS/broker/uptime\n', { mode: 0o600 });
    await upsertMosquittoAccount(files, { username: 'pw-ingest', password: 'p1', role: 'service' });
    await upsertMosquittoAccount(files, { username: 'gw-01', password: 'p2', role: 'gateway' });
    await upsertMosquittoAccount(files, { username: 'feed-lme', password: 'p3', role: 'feed' });
    expect(readFileSync(files.aclFile, 'utf8')).toBe(
      '# hand-written\npattern read $SYS/broker/uptime\n\n' +
        'user pw-ingest\ntopic read pw/v1/#\n\n' +
        'user gw-01\ntopic write pw/v1/gw/gw-01/#\n\n' +
        'user feed-lme\ntopic write pw/v1/prices/+\ntopic write pw/v1/prices/fx/+/+\n',
    );
    const users = readFileSync(files.passwordFile, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':')[0]);
    expect(users).toEqual(['pw-ingest', 'gw-01', 'feed-lme']);
    // The operator's choice of file mode (Mosquitto may run as another user) is kept.
    expect(statSync(files.aclFile).mode & 0o777).toBe(0o600);
    expect(statSync(files.passwordFile).mode & 0o777).toBe(0o640);
  });

  it('refuses to take over an existing entry unless asked to replace it (a new service password)', async () => {
    const files = { passwordFile: dir.file('passwd'), aclFile: dir.file('acl') };
    await upsertMosquittoAccount(files, { username: 'pw-ingest', password: 'old', role: 'service' });
    const before = readFileSync(files.passwordFile, 'utf8');
    await expect(upsertMosquittoAccount(files, { username: 'pw-ingest', password: 'x', role: 'gateway' })).rejects.toThrow(/already has an entry/);
    expect(readFileSync(files.passwordFile, 'utf8')).toBe(before);
    await upsertMosquittoAccount(files, { username: 'pw-ingest', password: 'new', role: 'service' }, { replace: true });
    expect(readFileSync(files.passwordFile, 'utf8')).not.toBe(before);
    expect(readFileSync(files.passwordFile, 'utf8').match(/^pw-ingest:/gm)).toHaveLength(1);
    await expect(upsertMosquittoAccount(files, { username: 'bad name', password: 'x', role: 'gateway' })).rejects.toThrow(/must match/);
  });

  it('replaces a user block in place', () => {
    const acl = 'user a\ntopic write x\n\nuser b\ntopic write y\n';
    expect(withUserBlock(acl, 'a', ['topic write z'])).toBe('user a\ntopic write z\n\nuser b\ntopic write y\n');
  });
});
