/**
 * One text line from a serial reader → one tag read, by the configured format (CSV columns or a
 * regex with named groups). Pure: the driver counts and logs what this refuses.
 */
import type { SerialLineFormat } from './settings.ts';

/** Longest line taken (bytes): a read line is ~40; longer is noise or a wrong delimiter. */
export const MAX_LINE_BYTES = 1024;

/** Why a line gave no read; the label of pw_edge_ignored_lines_total. */
export type LineRejection = 'blank' | 'no-match' | 'bad-epc' | 'bad-antenna' | 'bad-rssi' | 'too-long' | 'truncated';

export type ParsedLine = { ok: true; epc: string; antenna: number; rssi?: number } | { ok: false; reason: LineRejection };

interface Fields {
  epc: string | undefined;
  antenna: string | undefined;
  rssi: string | undefined;
}

// EPC memory holds whole 16-bit words, so a hex EPC has a multiple of 4 digits; with the
// CONTRACT's 8..124 digits, this also refuses most lines cut short by line noise.
const HEX_EPC = /^(?:[0-9A-Fa-f]{4}){2,31}$/;
const INTEGER = /^\d{1,5}$/;
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

export class LineFormat {
  private readonly fieldsOf: (line: string) => Fields | null;
  private readonly defaultAntenna: number;

  constructor(format: SerialLineFormat, defaultAntenna: number) {
    this.defaultAntenna = defaultAntenna;
    this.fieldsOf = format.kind === 'csv' ? csvFields(format) : regexFields(format.pattern);
  }

  parse(raw: string): ParsedLine {
    if (raw.length > MAX_LINE_BYTES) return { ok: false, reason: 'too-long' };
    const line = raw.trim();
    if (line === '') return { ok: false, reason: 'blank' };
    const fields = this.fieldsOf(line);
    if (fields?.epc === undefined) return { ok: false, reason: 'no-match' };
    const epc = fields.epc;
    if (!HEX_EPC.test(epc)) return { ok: false, reason: 'bad-epc' };
    let antenna = this.defaultAntenna;
    if (fields.antenna !== undefined && fields.antenna !== '') {
      antenna = INTEGER.test(fields.antenna) ? Number(fields.antenna) : 0;
      if (antenna < 1 || antenna > 65535) return { ok: false, reason: 'bad-antenna' };
    }
    const upper = epc.toUpperCase();
    if (fields.rssi === undefined || fields.rssi === '') return { ok: true, epc: upper, antenna };
    // A garbled RSSI means a garbled line: its EPC is not to be trusted either.
    if (!NUMBER.test(fields.rssi)) return { ok: false, reason: 'bad-rssi' };
    return { ok: true, epc: upper, antenna, rssi: Number(fields.rssi) };
  }
}

/** Columns by index; a missing optional column counts as absent, so "EPC" alone is a read on defaultAntenna. */
function csvFields(format: Extract<SerialLineFormat, { kind: 'csv' }>): (line: string) => Fields | null {
  const { separator, fields } = format;
  const column = (cells: string[], index: number | undefined) => (index === undefined ? undefined : unquote(cells[index]));
  return (line) => {
    const cells = line.split(separator);
    return { epc: column(cells, fields.epc), antenna: column(cells, fields.antenna), rssi: column(cells, fields.rssi) };
  };
}

/** Readers that quote their CSV cells ("3034…","1") are common enough to accept. */
function unquote(cell: string | undefined): string | undefined {
  if (cell === undefined) return undefined;
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}

function regexFields(pattern: string): (line: string) => Fields | null {
  // Validated at config load (compiles, has an epc group); built once per driver.
  const regex = new RegExp(pattern);
  return (line) => {
    const groups = regex.exec(line)?.groups;
    if (groups === undefined) return null;
    return { epc: groups.epc, antenna: groups.antenna, rssi: groups.rssi };
  };
}
