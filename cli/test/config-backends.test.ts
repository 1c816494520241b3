/** Configuration of the production backends: validated at start, secrets never echoed, adapters chosen from it. */
import { tempDir, type TempDir } from '@pledgewatch/common/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeSpecs } from '../src/central.ts';
import { ConfigError, loadCentralConfig } from '../src/config.ts';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('pw-config-');
});
afterEach(() => dir.remove());

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadCentralConfig({ env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('production backend configuration', () => {
  it('takes PW_INFLUX_URL and keeps SQLite for state', () => {
    const config = loadCentralConfig({ env: { PW_DATA_DIR: dir.path, PW_INFLUX_URL: 'http://pw:secret@influx:8086/pledgewatch' } });
    expect(storeSpecs(config)).toEqual({
      state: { kind: 'sqlite', path: dir.file('state.db') },
      series: { kind: 'influx', url: 'http://pw:secret@influx:8086/pledgewatch' },
    });
    expect(storeSpecs(loadCentralConfig({ env: { PW_DATA_DIR: dir.path } })).series).toEqual({ kind: 'sqlite', path: dir.file('series.db') });
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
});
