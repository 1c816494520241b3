/** Configuration of the production backends: validated at start, secrets never echoed, adapters chosen from it. */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeSpecs } from '../src/central.ts';
import { centralRoles, loadCentralConfig, signingKeyPath } from '../src/config.ts';
import { configProblems } from './fixtures.ts';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-config-');
});
afterEach(() => dir.remove());

const problems = (env: NodeJS.ProcessEnv): string[] => configProblems(() => loadCentralConfig({ env }));

describe('production backend configuration', () => {
  it('takes PW_INFLUX_URL and keeps SQLite for state', () => {
    const config = loadCentralConfig({ env: { PW_DATA_DIR: dir.path, PW_INFLUX_URL: 'http://pw:secret@influx:8086/pledgewatch' } });
    expect(storeSpecs(config)).toEqual({
      // Each SQLite file with the lock its writers in this process share.
      state: { kind: 'sqlite', path: dir.file('state.db'), writeLock: expect.any(SharedArrayBuffer) as unknown },
      series: { kind: 'influx', url: 'http://pw:secret@influx:8086/pledgewatch' },
    });
    expect(storeSpecs(loadCentralConfig({ env: { PW_DATA_DIR: dir.path } })).series).toEqual({ kind: 'sqlite', path: dir.file('series.db'), writeLock: expect.any(SharedArrayBuffer) as unknown });
  });

  it('names a wrong InfluxDB URL at start, without its password', () => {
    const [problem] = problems({ PW_INFLUX_URL: 'http://pw:hunter2@influx:8086/' });
    expect(problem).toMatch(/^PW_INFLUX_URL: InfluxDB URL .*no database/);
    expect(problem).not.toContain('hunter2');
    expect(problems({ PW_INFLUX_URL: 'ftp://influx/db' })[0]).toMatch(/protocol must be http or https/);
    expect(problems({ PW_MQTT_URL: 'mqtt//pw:hunter2@' }).join()).not.toContain('hunter2');
  });

  it('takes a PostgreSQL PW_DATABASE_URL for state, and wants both Mosquitto files or neither', () => {
    expect(problems({ PW_DATABASE_URL: 'postgres://db/pw' })).toEqual([]);
    expect(problems({ PW_DATABASE_URL: 'mysql://db/pw' })[0]).toMatch(/^PW_DATABASE_URL: must be a postgres:\/\//);
    expect(storeSpecs(loadCentralConfig({ env: { PW_DATA_DIR: dir.path, PW_DATABASE_URL: 'postgresql://pw:secret@db:5432/pw' } })).state).toEqual({
      kind: 'postgres',
      url: 'postgresql://pw:secret@db:5432/pw',
    });
    expect(problems({ PW_MOSQUITTO_PASSWORD_FILE: '/etc/mosquitto/passwd' })[0]).toMatch(/set both or neither/);
    expect(problems({ PW_MOSQUITTO_PASSWORD_FILE: '/etc/mosquitto/passwd', PW_MOSQUITTO_ACL_FILE: '/etc/mosquitto/acl' })).toEqual([]);
  });

  it('keeps the signing key in the data dir unless PW_SIGNING_KEY_FILE says where, and checks that file at start', () => {
    expect(signingKeyPath(loadCentralConfig({ env: { PW_DATA_DIR: dir.path } }))).toBe(dir.file('signing-key.pem'));
    expect(signingKeyPath(loadCentralConfig({ env: { PW_SIGNING_KEY_FILE: dir.file('shared.pem') } }))).toBe(dir.file('shared.pem'));
    expect(problems({ PW_SIGNING_KEY_FILE: dir.file('missing/key.pem') })).toEqual([
      `PW_SIGNING_KEY_FILE: directory ${dir.file('missing')} does not exist (the key is created there at first start)`,
    ]);
    writeFileSync(dir.file('rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(problems({ PW_SIGNING_KEY_FILE: dir.file('rsa.pem') })).toEqual([`PW_SIGNING_KEY_FILE: ${dir.file('rsa.pem')}: the signing key is an rsa key, not Ed25519`]);
    writeFileSync(dir.file('ed.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(problems({ PW_SIGNING_KEY_FILE: dir.file('ed.pem') })).toEqual([]);
  });

  it('runs every role by default: the embedded broker only without an external one', () => {
    expect([...centralRoles(loadCentralConfig({ env: {} }))]).toEqual(['api', 'ingest', 'broker', 'webhooks']);
    expect(loadCentralConfig({ env: { PW_MQTT_URL: 'mqtt://pw-ingest:x@mosquitto:1883' } }).roles).toBe('api,ingest,webhooks');
    expect(loadCentralConfig({ env: { PW_ROLES: 'all', PW_MQTT_URL: 'mqtt://m:1883' } }).roles).toBe('api,ingest,webhooks');
  });

  it('takes some roles per process on PostgreSQL, from the environment, a flag or the file', () => {
    const db = { PW_DATABASE_URL: 'postgres://pw@db/pw', PW_MQTT_URL: 'mqtt://m:1883' };
    expect(loadCentralConfig({ env: { ...db, PW_ROLES: ' webhooks, api ' } }).roles).toBe('api,webhooks');
    expect(loadCentralConfig({ env: { ...db, PW_ROLES: 'api' }, flags: { roles: 'ingest' } }).roles).toBe('ingest');
    expect(loadCentralConfig({ env: { PW_DATABASE_URL: 'postgres://pw@db/pw', PW_ROLES: 'broker,ingest' } }).roles).toBe('ingest,broker');
    const file = dir.file('central.json');
    writeFileSync(file, JSON.stringify({ roles: 'api', databaseUrl: 'postgres://pw@db/pw' }));
    expect(loadCentralConfig({ file, env: {} }).roles).toBe('api');
  });

  it('names PW_ROLES when the roles are unknown or do not fit together', () => {
    const db = { PW_DATABASE_URL: 'postgres://pw@db/pw' };
    expect(problems({ ...db, PW_ROLES: 'api,dispatcher' })).toEqual(['environment PW_ROLES: "api,dispatcher" is not "all" or a list of api, ingest, broker, webhooks']);
    expect(problems({ ...db, PW_ROLES: ',' })[0]).toMatch(/^environment PW_ROLES: /);
    expect(problems({ ...db, PW_ROLES: 'broker,ingest', PW_MQTT_URL: 'mqtt://m:1883' })).toEqual([
      'PW_ROLES: broker is the embedded MQTT broker; with PW_MQTT_URL (an external broker) leave it out',
    ]);
    expect(problems({ ...db, PW_ROLES: 'api,broker' }).join('\n')).toMatch(/^PW_ROLES: broker needs ingest in the same process/m);
    expect(problems({ ...db, PW_ROLES: 'ingest' })).toEqual(['PW_ROLES: ingest without broker needs PW_MQTT_URL, the broker to read from']);
    // SQLite state belongs to one process: all of it or nothing.
    expect(problems({ PW_ROLES: 'api' })).toEqual([
      'PW_ROLES: running only some roles (api) needs PW_DATABASE_URL: a SQLite state file belongs to one process, which runs them all',
    ]);
    expect(problems({ PW_ROLES: 'api,ingest,webhooks', PW_MQTT_URL: 'mqtt://m:1883' })).toEqual([]);
  });
});
