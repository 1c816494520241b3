/**
 * The reader port: what presence tracking needs from any RFID reader. The simulated driver, and
 * later the LLRP and serial adapters, implement it; nothing above this file knows which one runs.
 */
import type { Listenable } from '../events.ts';

/** One tag seen by one antenna. `at` is epoch ms on the agent's clock. */
export interface TagRead {
  epc: string;
  antenna: number;
  rssi?: number;
  at: number;
}

/** One inventory round finished: the reader was inventorying, so unseen tags may count as absent. */
export interface RoundDone {
  at: number;
}

export interface ReaderConnection {
  connected: boolean;
  error?: string;
}

export interface ReaderEvents {
  read: TagRead;
  round: RoundDone;
  status: ReaderConnection;
}

export interface ReaderDriver extends Listenable<ReaderEvents> {
  readonly id: string;
  /** Begins inventorying; emits `status` once connected (or not). Resolves once started, not once connected. */
  start(): Promise<void>;
  /** Stops inventorying and releases the reader; emits nothing more. */
  stop(): Promise<void>;
}
