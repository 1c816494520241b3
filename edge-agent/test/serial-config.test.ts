/** The `serial` reader block: defaults, and a precise error per bad key; and the line formats it configures. */
import { describe, expect, it } from 'vitest';
import { REGEX_SAMPLE_PATTERN } from '../../simulators/src/serial-emulator.ts';
import { checkEdgeConfig, LineFormat } from '../src/index.ts';
import { configErrors as errorsOf } from './helpers.ts';

const base = (reader: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  gatewayId: 'gw-serial-1',
  dataDir: '/tmp/pw-edge-serial',
  uplink: { url: 'mqtt://127.0.0.1:1883' },
  readers: [{ id: 'door', driver: 'serial', antennas: { '1': 'A1' }, ...reader }],
  ...extra,
});


describe('serial reader config', () => {
  it('fills the defaults: 115200 8N1, CRLF lines of EPC,antenna,RSSI, rounds of 1 s, reopen from 0.5 s up to 10 s', () => {
    const reader = checkEdgeConfig(base({ serial: { path: '/dev/ttyUSB0' } })).readers[0];
    expect(reader).toEqual({
      id: 'door',
      driver: 'serial',
      antennas: { '1': 'A1' },
      serial: {
        path: '/dev/ttyUSB0',
        baudRate: 115_200,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        delimiter: '\r\n',
        format: { kind: 'csv', separator: ',', fields: { epc: 0, antenna: 1, rssi: 2 } },
        defaultAntenna: 1,
        roundMs: 1000,
        reconnect: { initialMs: 500, maxMs: 10_000 },
      },
    });
    expect(Object.isFrozen(reader?.driver === 'serial' && reader.serial.format)).toBe(true);
  });

  it('takes a regex format and the framing keys', () => {
    const serial = { path: '/dev/serial/by-id/usb-reader', baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 2, delimiter: '\n', format: { kind: 'regex', pattern: REGEX_SAMPLE_PATTERN }, silenceTimeoutMs: 5000 };
    const reader = checkEdgeConfig(base({ serial })).readers[0];
    expect(reader?.driver === 'serial' && reader.serial).toMatchObject({ ...serial, format: { kind: 'regex', pattern: REGEX_SAMPLE_PATTERN } });
  });

  it('names each bad key of a serial block', () => {
    const serial = { path: 'ttyUSB0', baudRate: 9601, dataBits: 9, parity: 'mark', stopBits: 1.5, delimiter: '', colour: 'red', defaultAntenna: 0 };
    expect(errorsOf(base({ serial })).map((e) => e.path).sort()).toEqual(
      ['baudRate', 'colour', 'dataBits', 'defaultAntenna', 'delimiter', 'parity', 'path', 'stopBits'].map((k) => `/readers/0/serial/${k}`),
    );
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0', baudRate: 9601 } }))).toEqual([
      { path: '/readers/0/serial/baudRate', reason: 'must be 1200 or must be 2400 or must be 4800 or must be 9600 or must be 19200 or must be 38400 or must be 57600 or must be 115200 or must be 230400 or must be 460800 or must be 921600' },
    ]);
  });

  it('refuses a regex that does not compile, lacks an epc group or has an unknown one', () => {
    const withPattern = (pattern: string) => errorsOf(base({ serial: { path: '/dev/ttyS0', format: { kind: 'regex', pattern } } }));
    const [bad] = withPattern('(?<epc>[0-9A-F+');
    expect(bad?.path).toBe('/readers/0/serial/format/pattern');
    expect(bad?.reason).toMatch(/^not a valid regular expression: /);
    expect(withPattern('a)|(b')[0]?.reason).toMatch(/^not a valid regular expression: /);
    expect(withPattern('^(?<tag>[0-9A-F]+)$')).toEqual([
      { path: '/readers/0/serial/format/pattern', reason: 'needs a named group (?<epc>…) capturing the hex EPC' },
      { path: '/readers/0/serial/format/pattern', reason: 'unknown named group "tag" (allowed: epc, antenna, rssi)' },
    ]);
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0', format: { kind: 'regex' } } }))).toEqual([
      { path: '/readers/0/serial/format/pattern', reason: 'required when format kind is "regex"' },
    ]);
  });

  it('keeps csv and regex keys apart and csv columns distinct', () => {
    const mixed = { kind: 'regex', pattern: '(?<epc>.+)', separator: ';', fields: { epc: 0 } };
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0', format: mixed } }))).toEqual([
      { path: '/readers/0/serial/format/separator', reason: 'only for format kind "csv"' },
      { path: '/readers/0/serial/format/fields', reason: 'only for format kind "csv"' },
    ]);
    const clash = { kind: 'csv', pattern: 'x', fields: { epc: 1, antenna: 1, rssi: 1 } };
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0', format: clash } }))).toEqual([
      { path: '/readers/0/serial/format/pattern', reason: 'only for format kind "regex"' },
      { path: '/readers/0/serial/format/fields/antenna', reason: 'same column as fields.epc (1)' },
      { path: '/readers/0/serial/format/fields/rssi', reason: 'same column as fields.epc (1)' },
    ]);
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0', format: { kind: 'csv', fields: { antenna: 1 } } } }))).toEqual([
      { path: '/readers/0/serial/format/fields/epc', reason: 'required' },
    ]);
  });

  it('fits the timings to the absence timeout and puts each block with its driver', () => {
    const serial = { path: '/dev/ttyS0', roundMs: 3000, silenceTimeoutMs: 2500, reconnect: { initialMs: 20_000, maxMs: 1000 } };
    expect(errorsOf(base({ serial }, { presence: { absenceTimeoutS: 2 } }))).toEqual([
      { path: '/readers/0/serial/reconnect/initialMs', reason: 'must not exceed reconnect.maxMs (1000)' },
      { path: '/readers/0/serial/roundMs', reason: 'must be shorter than presence.absenceTimeoutS (2000 ms)' },
      { path: '/readers/0/serial/silenceTimeoutMs', reason: 'must be at least roundMs (3000)' },
      { path: '/readers/0/serial/silenceTimeoutMs', reason: 'must be shorter than presence.absenceTimeoutS (2000 ms)' },
    ]);
    expect(errorsOf(base({}))).toEqual([{ path: '/readers/0/serial', reason: 'required when driver is "serial"' }]);
    expect(errorsOf(base({ serial: { path: '/dev/ttyS0' }, llrp: { host: 'r' }, simulated: {} }))).toEqual([
      { path: '/readers/0/llrp', reason: 'only for driver "llrp"' },
      { path: '/readers/0/simulated', reason: 'only for driver "simulated"' },
    ]);
    expect(errorsOf(base({ driver: 'llrp', llrp: { host: 'r' }, serial: { path: '/dev/ttyS0' } }))).toEqual([
      { path: '/readers/0/serial', reason: 'only for driver "serial"' },
    ]);
  });
});

describe('serial line formats', () => {
  const EPC = '3034257BF7194E4000001A85';

  it('reads CSV columns by index, quoted or not, with optional columns absent', () => {
    const csv = new LineFormat({ kind: 'csv', separator: ',', fields: { epc: 0, antenna: 1, rssi: 2 } }, 1);
    expect(csv.parse(`${EPC},2,-61.5`)).toEqual({ ok: true, epc: EPC, antenna: 2, rssi: -61.5 });
    expect(csv.parse(` "${EPC.toLowerCase()}" , "3" ,-60\r`)).toEqual({ ok: true, epc: EPC, antenna: 3, rssi: -60 });
    expect(csv.parse(EPC)).toEqual({ ok: true, epc: EPC, antenna: 1 });
    expect(csv.parse(`${EPC},,`)).toEqual({ ok: true, epc: EPC, antenna: 1 });
    const reordered = new LineFormat({ kind: 'csv', separator: ';', fields: { epc: 2, rssi: 0 } }, 4);
    expect(reordered.parse(`-70;x;${EPC}`)).toEqual({ ok: true, epc: EPC, antenna: 4, rssi: -70 });
    expect(reordered.parse(`-70;x`)).toEqual({ ok: false, reason: 'no-match' });
  });

  it('reads named groups of a regex', () => {
    const regex = new LineFormat({ kind: 'regex', pattern: REGEX_SAMPLE_PATTERN }, 1);
    expect(regex.parse(`#TAG EPC:${EPC} ANT:2 RSSI:-55.5`)).toEqual({ ok: true, epc: EPC, antenna: 2, rssi: -55.5 });
    expect(regex.parse(`#TAG EPC:${EPC} ANT:2`)).toEqual({ ok: false, reason: 'no-match' });
    const epcOnly = new LineFormat({ kind: 'regex', pattern: '^EPC=(?<epc>\\w+)(?: A=(?<antenna>\\d+))?$' }, 3);
    expect(epcOnly.parse(`EPC=${EPC}`)).toEqual({ ok: true, epc: EPC, antenna: 3 });
  });

  it('says why a line gave no read', () => {
    const csv = new LineFormat({ kind: 'csv', separator: ',', fields: { epc: 0, antenna: 1, rssi: 2 } }, 1);
    const reasons = ['', '   ', 'ZZZZ257BF7194E4000001A85,1', '3034257BF7194E4000001A8,1', `${EPC},0`, `${EPC},70000`, `${EPC},one`, `${EPC},1,loud`, 'x'.repeat(2000)].map(
      (line) => {
        const parsed = csv.parse(line);
        return parsed.ok ? 'ok' : parsed.reason;
      },
    );
    expect(reasons).toEqual(['blank', 'blank', 'bad-epc', 'bad-epc', 'bad-antenna', 'bad-antenna', 'bad-antenna', 'bad-rssi', 'too-long']);
  });
});
