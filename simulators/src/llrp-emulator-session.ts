/**
 * One client connection to the LLRP reader emulator: answers every request as a reader would,
 * keeps ROSpec state (added → enabled → active), sends keepalives, and while an ROSpec is active
 * runs inventory rounds over the tag population, writing each round's reports in one burst.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock, Timer } from '@pledgewatch/common';
import { llrp } from '@pledgewatch/edge-agent';

const { MessageType: M } = llrp;

/** What the session shares with the emulator that owns it. */
export interface EmulatorContext {
  clock: Clock;
  random: () => number;
  log: Logger;
  reportEveryMs: number;
  missProbability: number;
  rssi: number;
  rssiNoise: number;
  tagsPerReport: number;
  antennaCount: number;
  keepaliveMs?: number;
  aiSpecEvents: boolean;
  /** antenna → EPCs in its field */
  population: ReadonlyMap<number, ReadonlySet<string>>;
  silent(): boolean;
  /** Consumes one injected failure for this message type, if any is pending. */
  takeFailure(type: number): boolean;
  count(what: string, n?: number): void;
}

interface EmulatedRospec {
  spec: llrp.RoSpec;
  state: 'disabled' | 'enabled' | 'active';
}

const INJECTED_FAILURE: llrp.LlrpStatus = { code: 101, description: 'emulated failure', fieldError: { fieldNum: 0, errorCode: 300 } };
const invalid = (description: string): llrp.LlrpStatus => ({ code: 101, description, fieldError: { fieldNum: 0, errorCode: 300 } });
const DEFAULT_CONTENTS: llrp.TagReportContents = { ...llrp.NO_CONTENTS, antennaId: true, peakRssi: true, firstSeen: true };

export class EmulatorSession {
  private readonly framer = new llrp.FrameReader();
  private readonly rospecs = new Map<number, EmulatedRospec>();
  private contents: llrp.TagReportContents = DEFAULT_CONTENTS;
  private aiSpecEvents = false;
  private keepalive: Timer | null = null;
  private rounds: Timer | null = null;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: EmulatorContext,
    private readonly onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    if (ctx.keepaliveMs !== undefined) this.startKeepalive(ctx.keepaliveMs);
  }

  /** Greets the client: the reader accepts (or, when another client holds it, refuses) the connection. */
  greet(status = 0): void {
    this.notify([{ kind: 'connectionAttempt', status }]);
    if (status !== 0) this.socket.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive?.cancel();
    this.rounds?.cancel();
    this.socket.destroy();
    this.onClose();
  }

  /** One inventory round now (the round timer calls this; tests may too). */
  round(): void {
    const active = [...this.rospecs.values()].find((r) => r.state === 'active');
    if (active === undefined || this.closed) return;
    const antennas = new Set(active.spec.aiSpecs.flatMap((ai) => ai.antennaIds));
    const contents = active.spec.reportSpec?.contents ?? this.contents;
    const nowUs = this.ctx.clock.now() * 1000;
    const tags: llrp.TagReport[] = [];
    for (const [antenna, epcs] of this.ctx.population) {
      if (!antennas.has(0) && !antennas.has(antenna)) continue;
      for (const epc of epcs) {
        if (this.ctx.random() < this.ctx.missProbability) continue;
        tags.push(this.tagReport(epc, antenna, nowUs, active.spec.id, contents));
      }
    }
    const frames: Buffer[] = [];
    for (let i = 0; i < tags.length; i += this.ctx.tagsPerReport) {
      frames.push(llrp.encodeRoAccessReport(this.nextId++, tags.slice(i, i + this.ctx.tagsPerReport)));
    }
    if (this.aiSpecEvents) frames.push(this.notification([{ kind: 'aispec', eventType: 0, rospecId: active.spec.id, specIndex: 1 }]));
    this.ctx.count('reports', frames.length - (this.aiSpecEvents ? 1 : 0));
    this.ctx.count('tagReports', tags.length);
    // One write for the whole round: the client sees many frames back to back, cut anywhere.
    if (frames.length > 0) this.write(Buffer.concat(frames));
  }

  private tagReport(epc: string, antenna: number, nowUs: number, rospecId: number, c: llrp.TagReportContents): llrp.TagReport {
    const rssi = Math.round(this.ctx.rssi + (this.ctx.random() * 2 - 1) * this.ctx.rssiNoise);
    return {
      epc,
      epcBits: epc.length * 4,
      ...(c.rospecId ? { rospecId } : {}),
      ...(c.specIndex ? { specIndex: 1 } : {}),
      ...(c.inventoryParameterSpecId ? { inventoryParameterSpecId: 1 } : {}),
      ...(c.antennaId ? { antennaId: antenna } : {}),
      ...(c.peakRssi ? { peakRssi: Math.max(-128, Math.min(127, rssi)) } : {}),
      ...(c.firstSeen ? { firstSeenUtcUs: nowUs } : {}),
      ...(c.lastSeen ? { lastSeenUtcUs: nowUs } : {}),
      ...(c.tagSeenCount ? { tagSeenCount: 1 } : {}),
    };
  }

  private onData(chunk: Buffer): void {
    let frames: llrp.LlrpFrame[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'corrupt LLRP stream from client; closing');
      this.close();
      return;
    }
    for (const frame of frames) {
      this.ctx.count(llrp.messageName(frame.type));
      if (this.ctx.silent() || this.closed) continue;
      try {
        this.answer(frame);
      } catch (err) {
        this.respond(frame, invalid(`cannot decode: ${(err as Error).message}`));
      }
    }
  }

  private answer(frame: llrp.LlrpFrame): void {
    if (frame.type === M.KEEPALIVE_ACK) return;
    if (this.ctx.takeFailure(frame.type)) return this.respond(frame, INJECTED_FAILURE);
    switch (frame.type) {
      case M.GET_READER_CAPABILITIES:
        return this.write(llrp.encodeCapabilitiesResponse(frame.id, llrp.SUCCESS, this.capabilities()));
      case M.SET_READER_CONFIG:
        this.configure(llrp.decodeSetReaderConfig(frame.body));
        return this.respond(frame, llrp.SUCCESS);
      case M.ADD_ROSPEC:
        return this.respond(frame, this.add(llrp.decodeAddRospec(frame.body)));
      case M.DELETE_ROSPEC:
      case M.ENABLE_ROSPEC:
      case M.DISABLE_ROSPEC:
      case M.START_ROSPEC:
      case M.STOP_ROSPEC:
        return this.respond(frame, this.transition(frame.type, llrp.decodeRospecId(frame.body)));
      case M.CLOSE_CONNECTION:
        this.respond(frame, llrp.SUCCESS);
        this.socket.end();
        return;
    }
    if (llrp.responseTypeOf(frame.type) !== undefined) return this.respond(frame, llrp.SUCCESS);
    this.write(llrp.encodeErrorMessage(frame.id, { code: 109, description: `${llrp.messageName(frame.type)} not supported` }));
  }

  private capabilities(): llrp.GeneralDeviceCapabilities {
    const antennaProtocols = Array.from({ length: this.ctx.antennaCount }, (_, i) => ({ antennaId: i + 1, protocols: [1] }));
    return { maxAntennas: this.ctx.antennaCount, canSetAntennaProperties: false, hasUtcClock: true, manufacturer: 0, model: 0, firmware: 'pledgewatch-emulator', antennaProtocols };
  }

  private configure(config: llrp.SetReaderConfig): void {
    if (config.resetToFactoryDefault) {
      this.stopRounds();
      this.rospecs.clear();
      this.contents = DEFAULT_CONTENTS;
      this.aiSpecEvents = false;
      // factory default: no keepalives (unless the emulator forces a period)
      if (this.ctx.keepaliveMs === undefined) this.stopKeepalive();
    }
    if (config.reportSpec !== undefined) this.contents = config.reportSpec.contents;
    const aiSpec = config.eventNotifications?.find((e) => e.eventType === llrp.ReaderEventType.AISpecEvent);
    if (aiSpec !== undefined) this.aiSpecEvents = aiSpec.enabled && this.ctx.aiSpecEvents;
    if (config.keepalive !== undefined && this.ctx.keepaliveMs === undefined) {
      this.stopKeepalive();
      if (config.keepalive.triggerType === 1 && config.keepalive.periodMs > 0) this.startKeepalive(config.keepalive.periodMs);
    }
  }

  private add(spec: llrp.RoSpec): llrp.LlrpStatus {
    if (spec.id === 0 || this.rospecs.has(spec.id)) return invalid(`ROSpec ${spec.id} is 0 or exists`);
    if (spec.currentState !== 0) return invalid('a new ROSpec must be disabled');
    const antennas = spec.aiSpecs.flatMap((ai) => ai.antennaIds);
    if (antennas.some((a) => a > this.ctx.antennaCount)) return invalid(`no such antenna (reader has ${this.ctx.antennaCount})`);
    this.rospecs.set(spec.id, { spec, state: 'disabled' });
    return llrp.SUCCESS;
  }

  private transition(type: number, id: number): llrp.LlrpStatus {
    if (type === M.DELETE_ROSPEC && id === 0) {
      this.stopRounds();
      this.rospecs.clear();
      return llrp.SUCCESS;
    }
    const rospec = this.rospecs.get(id);
    if (rospec === undefined) return invalid(`no ROSpec ${id}`);
    switch (type) {
      case M.DELETE_ROSPEC:
        if (rospec.state === 'active') this.stopRounds();
        this.rospecs.delete(id);
        return llrp.SUCCESS;
      case M.ENABLE_ROSPEC:
        if (rospec.state === 'disabled') rospec.state = 'enabled';
        return llrp.SUCCESS;
      case M.START_ROSPEC:
        if (rospec.state !== 'enabled') return invalid(`ROSpec ${id} is ${rospec.state}, not enabled`);
        rospec.state = 'active';
        this.rounds = this.ctx.clock.setInterval(() => this.round(), this.ctx.reportEveryMs);
        return llrp.SUCCESS;
      default:
        // STOP and DISABLE: stopping an active ROSpec leaves it enabled
        if (rospec.state === 'active') this.stopRounds();
        if (type === M.DISABLE_ROSPEC) rospec.state = 'disabled';
        return llrp.SUCCESS;
    }
  }

  private stopRounds(): void {
    this.rounds?.cancel();
    this.rounds = null;
    for (const r of this.rospecs.values()) if (r.state === 'active') r.state = 'enabled';
  }

  private stopKeepalive(): void {
    this.keepalive?.cancel();
    this.keepalive = null;
  }

  private startKeepalive(periodMs: number): void {
    this.keepalive = this.ctx.clock.setInterval(() => {
      this.ctx.count('keepalives');
      this.write(llrp.encodeKeepalive(this.nextId++));
    }, periodMs);
  }

  private respond(request: llrp.LlrpFrame, status: llrp.LlrpStatus): void {
    const type = llrp.responseTypeOf(request.type);
    this.write(type === undefined ? llrp.encodeErrorMessage(request.id, status) : llrp.encodeStatusResponse(type, request.id, status));
  }

  private notify(events: llrp.ReaderEvent[]): void {
    this.write(this.notification(events));
  }

  private notification(events: llrp.ReaderEvent[]): Buffer {
    return llrp.encodeReaderEventNotification(this.nextId++, { timestampUs: this.ctx.clock.now() * 1000, clock: 'utc', events });
  }

  private write(bytes: Buffer): void {
    if (!this.closed && !this.ctx.silent() && this.socket.writable) this.socket.write(bytes);
  }
}
