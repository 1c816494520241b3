/**
 * What the driver asks a reader for: a known configuration and one continuous-inventory ROSpec.
 *
 * A round is one AISpec run of `roundMs` (Duration stop trigger) inside an ROSpec that never stops
 * (Null stop trigger), so the reader loops over the AISpec for as long as it is up. The report
 * trigger "upon N tags or end of AISpec" with N = 0 makes one RO_ACCESS_REPORT per round holding
 * every tag seen in it, and AISpec_Event notifications mark each round's end even when no tag was
 * seen (many readers send no report at all for an empty field).
 */
import {
  AirProtocol,
  ReaderEventType,
  ROReportTrigger,
  StartTriggerType,
  StopTriggerType,
  NO_CONTENTS,
  type ReportSpec,
  type RoSpec,
  type SetReaderConfig,
} from './codec.ts';

/** Ours alone: setup deletes every ROSpec on the reader first. */
export const ROSPEC_ID = 1;

export const REPORT_SPEC: ReportSpec = Object.freeze({
  trigger: ROReportTrigger.UponNTagsOrEndOfAISpec,
  n: 0,
  contents: Object.freeze({ ...NO_CONTENTS, antennaId: true, peakRssi: true, firstSeen: true, tagSeenCount: true }),
});

/** Reset to factory defaults, then the events the driver acts on, the report spec and keepalives. */
export function readerConfig(keepaliveMs: number): SetReaderConfig {
  const on = (eventType: number) => ({ eventType, enabled: true });
  return {
    resetToFactoryDefault: true,
    eventNotifications: [
      { eventType: ReaderEventType.HoppingToNextChannel, enabled: false },
      { eventType: ReaderEventType.GPIEvent, enabled: false },
      on(ReaderEventType.ROSpecEvent),
      on(ReaderEventType.ReportBufferFillWarning),
      on(ReaderEventType.ReaderExceptionEvent),
      on(ReaderEventType.AISpecEvent),
      on(ReaderEventType.AntennaEvent),
    ],
    reportSpec: REPORT_SPEC,
    keepalive: { triggerType: 1, periodMs: keepaliveMs },
  };
}

/** Continuous inventory on `antennas`, started by START_ROSPEC (Null start trigger), one round per `roundMs`. */
export function inventoryRospec(antennas: readonly number[], roundMs: number): RoSpec {
  return {
    id: ROSPEC_ID,
    priority: 0,
    currentState: 0,
    startTrigger: { type: StartTriggerType.Null },
    stopTrigger: { type: StopTriggerType.Null, durationMs: 0 },
    aiSpecs: [
      {
        antennaIds: [...antennas],
        stopTrigger: { type: StopTriggerType.Duration, durationMs: roundMs },
        inventory: [{ id: 1, protocolId: AirProtocol.EPCGlobalClass1Gen2, antennaConfigurations: 0 }],
      },
    ],
    reportSpec: REPORT_SPEC,
  };
}
