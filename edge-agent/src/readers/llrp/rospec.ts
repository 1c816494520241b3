/** ADD_ROSPEC's ROSpec: when to run, which antennas, which air protocol, how to report. */
import { MessageType, ParamType } from './constants.ts';
import { decodeReportSpec, encodeReportSpec, type ReportSpec } from './config-params.ts';
import { encodeFrame, LlrpDecodeError } from './frames.ts';
import { FieldReader, FieldWriter, tlv, walkParams } from './params.ts';

export interface Trigger {
  /** start: 0 null, 1 immediate, 2 periodic, 3 GPI; stop: 0 null, 1 duration, 2 GPI with timeout (3 tag observation for an AISpec) */
  type: number;
  /** stop triggers only */
  durationMs?: number;
}

export interface InventoryParameterSpec {
  id: number;
  protocolId: number;
  /** AntennaConfiguration parameters present (not decoded further) */
  antennaConfigurations: number;
}

export interface AiSpec {
  /** antenna 0 means every antenna of the reader */
  antennaIds: number[];
  stopTrigger: Trigger;
  inventory: InventoryParameterSpec[];
}

export interface RoSpec {
  id: number;
  priority: number;
  /** 0 disabled, 1 inactive, 2 active; a new ROSpec must be disabled */
  currentState: number;
  startTrigger: Trigger;
  stopTrigger: Trigger;
  aiSpecs: AiSpec[];
  reportSpec?: ReportSpec;
}

export function encodeAddRospec(id: number, spec: RoSpec): Buffer {
  return encodeFrame(MessageType.ADD_ROSPEC, id, encodeRospec(spec));
}

export function encodeRospec(spec: RoSpec): Buffer {
  const start = tlv(ParamType.ROSpecStartTrigger, Buffer.of(spec.startTrigger.type));
  const stop = tlv(ParamType.ROSpecStopTrigger, new FieldWriter().u8(spec.stopTrigger.type).u32(spec.stopTrigger.durationMs ?? 0).build());
  const w = new FieldWriter().u32(spec.id).u8(spec.priority).u8(spec.currentState).raw(tlv(ParamType.ROBoundarySpec, start, stop));
  for (const ai of spec.aiSpecs) w.raw(encodeAiSpec(ai));
  if (spec.reportSpec !== undefined) w.raw(encodeReportSpec(spec.reportSpec));
  return tlv(ParamType.ROSpec, w.build());
}

function encodeAiSpec(ai: AiSpec): Buffer {
  const w = new FieldWriter().u16(ai.antennaIds.length);
  for (const antenna of ai.antennaIds) w.u16(antenna);
  w.raw(tlv(ParamType.AISpecStopTrigger, new FieldWriter().u8(ai.stopTrigger.type).u32(ai.stopTrigger.durationMs ?? 0).build()));
  for (const inv of ai.inventory) {
    w.raw(tlv(ParamType.InventoryParameterSpec, new FieldWriter().u16(inv.id).u8(inv.protocolId).build()));
  }
  return tlv(ParamType.AISpec, w.build());
}

/** Body of an ADD_ROSPEC. */
export function decodeAddRospec(body: Buffer): RoSpec {
  for (const p of walkParams(body)) if (p.type === ParamType.ROSpec && !p.tv) return decodeRospec(p.value);
  throw new LlrpDecodeError('ADD_ROSPEC has no ROSpec');
}

export function decodeRospec(value: Buffer): RoSpec {
  const r = new FieldReader(value, 'ROSpec');
  const spec: RoSpec = {
    id: r.u32(),
    priority: r.u8(),
    currentState: r.u8(),
    startTrigger: { type: 0 },
    stopTrigger: { type: 0, durationMs: 0 },
    aiSpecs: [],
  };
  for (const p of r.params()) {
    if (p.tv) continue;
    if (p.type === ParamType.ROBoundarySpec) {
      for (const t of walkParams(p.value)) {
        if (t.type === ParamType.ROSpecStartTrigger && !t.tv) spec.startTrigger = { type: new FieldReader(t.value, 'ROSpecStartTrigger').u8() };
        if (t.type === ParamType.ROSpecStopTrigger && !t.tv) spec.stopTrigger = decodeStopTrigger(t.value, 'ROSpecStopTrigger');
      }
    }
    if (p.type === ParamType.AISpec) spec.aiSpecs.push(decodeAiSpec(p.value));
    if (p.type === ParamType.ROReportSpec) spec.reportSpec = decodeReportSpec(p.value);
    // RFSurveySpec, LoopSpec and Custom parameters are skipped.
  }
  return spec;
}

function decodeStopTrigger(value: Buffer, what: string): Trigger {
  const r = new FieldReader(value, what);
  return { type: r.u8(), durationMs: r.u32() };
}

function decodeAiSpec(value: Buffer): AiSpec {
  const r = new FieldReader(value, 'AISpec');
  const count = r.u16();
  const ai: AiSpec = { antennaIds: Array.from({ length: count }, () => r.u16()), stopTrigger: { type: 0, durationMs: 0 }, inventory: [] };
  for (const p of r.params()) {
    if (p.tv) continue;
    if (p.type === ParamType.AISpecStopTrigger) ai.stopTrigger = decodeStopTrigger(p.value, 'AISpecStopTrigger');
    if (p.type === ParamType.InventoryParameterSpec) {
      const inv = new FieldReader(p.value, 'InventoryParameterSpec');
      const spec: InventoryParameterSpec = { id: inv.u16(), protocolId: inv.u8(), antennaConfigurations: 0 };
      for (const c of inv.params()) if (!c.tv && c.type === ParamType.AntennaConfiguration) spec.antennaConfigurations++;
      ai.inventory.push(spec);
    }
  }
  return ai;
}
