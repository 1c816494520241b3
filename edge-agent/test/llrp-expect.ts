/**
 * What a decoded LLRP message should hold, read from its LTK XML twin. Enumerations are mapped from
 * the spec's names here, independently of the codec's own tables.
 */
import type { ReaderEvent, RoSpec, ReportSpec, SetReaderConfig, TagReport, TagReportContents } from '../src/readers/llrp/codec.ts';
import { attr, block, blocks, bool, children, leaf, micros, nested, num } from './llrp-xml.ts';

const enumOf = (names: readonly string[]) => (name: string | undefined): number => {
  const i = names.indexOf(name ?? '');
  if (i < 0) throw new Error(`unknown enum value ${name}`);
  return i;
};

export const eventTypeOf = enumOf([
  'Upon_Hopping_To_Next_Channel',
  'GPI_Event',
  'ROSpec_Event',
  'Report_Buffer_Fill_Warning',
  'Reader_Exception_Event',
  'RFSurvey_Event',
  'AISpec_Event',
  'AISpec_Event_With_Details',
  'Antenna_Event',
]);
const reportTriggerOf = enumOf(['None', 'Upon_N_Tags_Or_End_Of_AISpec', 'Upon_N_Tags_Or_End_Of_ROSpec']);
const startTriggerOf = enumOf(['Null', 'Immediate', 'Periodic', 'GPI']);
const stopTriggerOf = enumOf(['Null', 'Duration', 'GPI_With_Timeout', 'Tag_Observation']);
const stateOf = enumOf(['Disabled', 'Inactive', 'Active']);
const protocolOf = enumOf(['Unspecified', 'EPCGlobalClass1Gen2']);
export const requestedDataOf = enumOf(['All', 'General_Device_Capabilities', 'LLRP_Capabilities', 'Regulatory_Capabilities', 'LLRP_Air_Protocol_Capabilities']);
const keepaliveTypeOf = enumOf(['Null', 'Periodic']);
const accessReportTriggerOf = enumOf(['Whenever_ROReport_Is_Generated', 'End_Of_AccessSpec']);
const connectionStatusOf = enumOf([
  'Success',
  'Failed_A_Reader_Initiated_Connection_Already_Exists',
  'Failed_A_Client_Initiated_Connection_Already_Exists',
  'Failed_Reason_Other_Than_A_Connection_Already_Exists',
  'Another_Connection_Attempted',
]);
const rospecEventOf = enumOf(['Start_Of_ROSpec', 'End_Of_ROSpec', 'Preemption_Of_ROSpec']);
const aispecEventOf = enumOf(['End_Of_AISpec']);
const antennaEventOf = enumOf(['Antenna_Disconnected', 'Antenna_Connected']);

/** Drops undefined fields so toEqual compares only what the XML states. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function expectedTag(xml: string): TagReport {
  const epc96 = block(xml, 'EPC_96');
  const epcData = block(xml, 'EPCData');
  return defined({
    epc: leaf(epc96 ?? epcData ?? '', 'EPC')?.toUpperCase(),
    epcBits: epc96 !== undefined ? 96 : num(attr(epcData ?? '', 'EPC', 'Count')),
    rospecId: num(nested(xml, 'ROSpecID', 'ROSpecID')),
    specIndex: num(nested(xml, 'SpecIndex', 'SpecIndex')),
    inventoryParameterSpecId: num(nested(xml, 'InventoryParameterSpecID', 'InventoryParameterSpecID')),
    antennaId: num(nested(xml, 'AntennaID', 'AntennaID')),
    peakRssi: num(nested(xml, 'PeakRSSI', 'PeakRSSI')),
    channelIndex: num(nested(xml, 'ChannelIndex', 'ChannelIndex')),
    firstSeenUtcUs: micros(nested(xml, 'FirstSeenTimestampUTC', 'Microseconds')),
    firstSeenUptimeUs: micros(nested(xml, 'FirstSeenTimestampUptime', 'Microseconds')),
    lastSeenUtcUs: micros(nested(xml, 'LastSeenTimestampUTC', 'Microseconds')),
    lastSeenUptimeUs: micros(nested(xml, 'LastSeenTimestampUptime', 'Microseconds')),
    tagSeenCount: num(nested(xml, 'TagSeenCount', 'TagCount')),
    pc: num(nested(xml, 'C1G2_PC', 'PC_Bits')),
    crc: num(nested(xml, 'C1G2_CRC', 'CRC')),
    accessSpecId: num(nested(xml, 'AccessSpecID', 'AccessSpecID')),
  });
}

const EVENT_NAMES = ['ConnectionAttemptEvent', 'ConnectionCloseEvent', 'AntennaEvent', 'ROSpecEvent', 'AISpecEvent', 'HoppingEvent', 'GPIEvent'] as const;

export function expectedNotification(xml: string): { timestampUs: number | undefined; events: ReaderEvent[] } {
  const data = block(xml, 'ReaderEventNotificationData') ?? '';
  const events = children(data, EVENT_NAMES).map(({ name, xml: e }): ReaderEvent => {
    switch (name) {
      case 'ConnectionAttemptEvent':
        return { kind: 'connectionAttempt', status: connectionStatusOf(leaf(e, 'Status')) };
      case 'ConnectionCloseEvent':
        return { kind: 'connectionClose' };
      case 'AntennaEvent':
        return { kind: 'antenna', connected: antennaEventOf(leaf(e, 'EventType')) === 1, antennaId: Number(leaf(e, 'AntennaID')) };
      case 'ROSpecEvent':
        return {
          kind: 'rospec',
          eventType: rospecEventOf(leaf(e, 'EventType')),
          rospecId: Number(leaf(e, 'ROSpecID')),
          preemptingRospecId: Number(leaf(e, 'PreemptingROSpecID')),
        };
      case 'AISpecEvent':
        return { kind: 'aispec', eventType: aispecEventOf(leaf(e, 'EventType')), rospecId: Number(leaf(e, 'ROSpecID')), specIndex: Number(leaf(e, 'SpecIndex')) };
      case 'HoppingEvent':
        return { kind: 'hopping', hopTableId: Number(leaf(e, 'HopTableID')), nextChannelIndex: Number(leaf(e, 'NextChannelIndex')) };
      default:
        // GPIEvent holds a GPIEvent leaf, so the lazy block match ends at the leaf's closing tag.
        return { kind: 'gpi', port: Number(leaf(e, 'GPIPortNumber')), event: bool(/<(?:llrp:)?GPIEvent>\s*(\w+)/.exec(e)?.[1]) ?? false };
    }
  });
  return { timestampUs: micros(nested(data, 'UTCTimestamp', 'Microseconds')), events };
}

const SELECTOR: [keyof TagReportContents, string][] = [
  ['rospecId', 'EnableROSpecID'],
  ['specIndex', 'EnableSpecIndex'],
  ['inventoryParameterSpecId', 'EnableInventoryParameterSpecID'],
  ['antennaId', 'EnableAntennaID'],
  ['channelIndex', 'EnableChannelIndex'],
  ['peakRssi', 'EnablePeakRSSI'],
  ['firstSeen', 'EnableFirstSeenTimestamp'],
  ['lastSeen', 'EnableLastSeenTimestamp'],
  ['tagSeenCount', 'EnableTagSeenCount'],
  ['accessSpecId', 'EnableAccessSpecID'],
];

export function expectedReportSpec(xml: string | undefined): ReportSpec | undefined {
  if (xml === undefined) return undefined;
  const contents = Object.fromEntries(SELECTOR.map(([field, name]) => [field, bool(leaf(xml, name)) ?? false])) as unknown as TagReportContents;
  return { trigger: reportTriggerOf(leaf(xml, 'ROReportTrigger')), n: Number(leaf(xml, 'N')), contents };
}

export function expectedRospec(xml: string): RoSpec {
  const rospec = block(xml, 'ROSpec') ?? '';
  const boundary = block(rospec, 'ROBoundarySpec') ?? '';
  const stop = block(boundary, 'ROSpecStopTrigger') ?? '';
  return defined({
    id: Number(leaf(rospec, 'ROSpecID')),
    priority: Number(leaf(rospec, 'Priority')),
    currentState: stateOf(leaf(rospec, 'CurrentState')),
    startTrigger: { type: startTriggerOf(leaf(boundary, 'ROSpecStartTriggerType')) },
    stopTrigger: { type: stopTriggerOf(leaf(stop, 'ROSpecStopTriggerType')), durationMs: Number(leaf(stop, 'DurationTriggerValue')) },
    aiSpecs: blocks(rospec, 'AISpec').map((ai) => ({
      antennaIds: (leaf(ai, 'AntennaIDs') ?? '').split(/\s+/).filter((s) => s !== '').map(Number),
      stopTrigger: { type: stopTriggerOf(leaf(ai, 'AISpecStopTriggerType')), durationMs: Number(leaf(ai, 'DurationTrigger')) },
      inventory: blocks(ai, 'InventoryParameterSpec').map((inv) => ({
        id: Number(leaf(inv, 'InventoryParameterSpecID')),
        protocolId: protocolOf(leaf(inv, 'ProtocolID')),
        antennaConfigurations: blocks(inv, 'AntennaConfiguration').length,
      })),
    })),
    reportSpec: expectedReportSpec(block(rospec, 'ROReportSpec')),
  });
}

export function expectedSetReaderConfig(xml: string): SetReaderConfig {
  const notifications = block(xml, 'ReaderEventNotificationSpec');
  const keepalive = block(xml, 'KeepaliveSpec');
  const access = leaf(xml, 'AccessReportTrigger');
  return defined({
    resetToFactoryDefault: bool(leaf(xml, 'ResetToFactoryDefault')) ?? false,
    eventNotifications: notifications
      ? blocks(notifications, 'EventNotificationState').map((s) => ({
          eventType: eventTypeOf(leaf(s, 'EventType')),
          enabled: bool(leaf(s, 'NotificationState')) ?? false,
        }))
      : undefined,
    reportSpec: expectedReportSpec(block(xml, 'ROReportSpec')),
    accessReportTrigger: access === undefined ? undefined : accessReportTriggerOf(access),
    keepalive: keepalive
      ? { triggerType: keepaliveTypeOf(leaf(keepalive, 'KeepaliveTriggerType')), periodMs: Number(leaf(keepalive, 'PeriodicTriggerValue')) }
      : undefined,
    holdEventsAndReportsUponReconnect: bool(leaf(xml, 'HoldEventsAndReportsUponReconnect')),
  });
}
