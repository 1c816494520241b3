/** The per-commodity maximum price age: one key, validated at start, handed to the API and ingest alike. */
import { writeFileSync } from 'node:fs';
import { tempDir } from '@pledgewatch/common/testing';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig, maxPriceAgesByCommodityS } from '../src/config.ts';
import { configProblems } from './fixtures.ts';

const problems = configProblems;

describe('maxPriceAgeByCommodity', () => {
  it('is empty by default, and read from the environment, a flag or a JSON object in the config file', () => {
    expect(maxPriceAgesByCommodityS(loadCentralConfig({ env: {} }))).toEqual({});
    const env = loadCentralConfig({ env: { PW_MAX_PRICE_AGE_BY_COMMODITY: ' copper-cathode=3600, wheat=172800 ' } });
    expect(maxPriceAgesByCommodityS(env)).toEqual({ 'copper-cathode': 3600, wheat: 172_800 });
    const flag = loadCentralConfig({ env: { PW_MAX_PRICE_AGE_BY_COMMODITY: 'wheat=1' }, flags: { maxPriceAgeByCommodity: 'nickel=900.5' } });
    expect(maxPriceAgesByCommodityS(flag)).toEqual({ nickel: 900.5 });
    const dir = tempDir('pw-config-');
    try {
      writeFileSync(dir.file('pw.json'), JSON.stringify({ maxPriceAgeByCommodity: { 'copper-cathode': 1800 } }));
      expect(maxPriceAgesByCommodityS(loadCentralConfig({ file: dir.file('pw.json') }))).toEqual({ 'copper-cathode': 1800 });
      writeFileSync(dir.file('bad.json'), JSON.stringify({ maxPriceAgeByCommodity: { 'copper cathode': 1800 } }));
      expect(problems(() => loadCentralConfig({ file: dir.file('bad.json') }))).toEqual([
        `${dir.file('bad.json')}: key "maxPriceAgeByCommodity": "copper cathode=1800" is not COMMODITY=SECONDS (a commodity id and a positive number of seconds)`,
      ]);
    } finally {
      dir.remove();
    }
  });

  it('stops at start naming the key and the entry at fault', () => {
    for (const bad of ['copper=0', 'copper=-5', 'copper=abc', 'copper', '=60', 'copper=60=1']) {
      expect(problems(() => loadCentralConfig({ env: { PW_MAX_PRICE_AGE_BY_COMMODITY: `wheat=60,${bad}` } }))).toEqual([
        `environment PW_MAX_PRICE_AGE_BY_COMMODITY: "${bad}" is not COMMODITY=SECONDS (a commodity id and a positive number of seconds)`,
      ]);
    }
    expect(problems(() => loadCentralConfig({ env: { PW_MAX_PRICE_AGE_BY_COMMODITY: 'wheat=60,wheat=90' } }))).toEqual([
      'environment PW_MAX_PRICE_AGE_BY_COMMODITY: wheat is given twice',
    ]);
  });
});
