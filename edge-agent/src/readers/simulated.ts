/**
 * A reader that exists only in memory: tags sit in antenna fields and are read once per round,
 * each read missed with a set probability, as dense pallets are missed by real readers. Demos and
 * tests move tags and pull the plug through its control methods.
 */
import type { Clock, Timer } from '@pledgewatch/common';
import type { SimulatedSettingsConfig } from '../config.ts';
import { TypedEmitter } from '../events.ts';
import type { ReaderDriver, ReaderEvents } from './driver.ts';

export interface SimulatedReaderOptions {
  id: string;
  settings: SimulatedSettingsConfig;
  clock: Clock;
  /** Uniform [0, 1) source deciding missed reads; inject a seeded one for deterministic runs. */
  random?: () => number;
}

export class SimulatedReader extends TypedEmitter<ReaderEvents> implements ReaderDriver {
  readonly id: string;
  private readonly settings: SimulatedSettingsConfig;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly fields = new Map<number, Set<string>>();
  private connected = true;
  private timer: Timer | null = null;

  constructor(options: SimulatedReaderOptions) {
    super();
    this.id = options.id;
    this.settings = options.settings;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    for (const [antenna, epcs] of Object.entries(options.settings.tags)) this.addTags(Number(antenna), epcs);
  }

  start(): Promise<void> {
    if (this.timer === null) {
      this.emit('status', this.connectionState());
      this.timer = this.clock.setInterval(() => this.round(), this.settings.roundMs);
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    return Promise.resolve();
  }

  /** Puts tags into an antenna's field (an antenna with no zone in the config is allowed: real readers have those too). */
  addTags(antenna: number, epcs: readonly string[]): void {
    let field = this.fields.get(antenna);
    if (field === undefined) {
      field = new Set();
      this.fields.set(antenna, field);
    }
    for (const epc of epcs) field.add(epc);
  }

  /** Takes tags out of every antenna's field (goods carried out). */
  removeTags(epcs: readonly string[]): void {
    for (const field of this.fields.values()) for (const epc of epcs) field.delete(epc);
  }

  moveTags(epcs: readonly string[], toAntenna: number): void {
    this.removeTags(epcs);
    this.addTags(toAntenna, epcs);
  }

  /** Simulates a cable pull or reader reboot: no reads or rounds until reconnected. */
  setConnected(connected: boolean, error = 'simulated disconnect'): void {
    if (connected === this.connected) return;
    this.connected = connected;
    if (this.timer !== null) this.emit('status', this.connectionState(error));
  }

  tagsOn(antenna: number): string[] {
    return [...(this.fields.get(antenna) ?? [])];
  }

  private connectionState(error = 'simulated disconnect'): ReaderEvents['status'] {
    return this.connected ? { connected: true } : { connected: false, error };
  }

  private round(): void {
    if (!this.connected) return;
    const at = this.clock.now();
    const { rssi, missProbability } = this.settings;
    for (const [antenna, field] of this.fields) {
      for (const epc of field) {
        if (this.random() < missProbability) continue;
        this.emit('read', rssi === undefined ? { epc, antenna, at } : { epc, antenna, rssi, at });
      }
    }
    this.emit('round', { at });
  }
}
