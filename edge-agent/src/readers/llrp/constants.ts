/**
 * Numbers from the LLRP 1.0.1 / 1.1 specification (EPCglobal): message types, parameter types,
 * status codes and event enumerations. Only what the driver, the emulator and the golden tests use.
 */

/** Version 1 is LLRP 1.0.1, which every reader speaks; 1.1 readers accept it too. */
export const LLRP_VERSION = 1;
export const LLRP_PORT = 5084;
export const HEADER_BYTES = 10;

export const MessageType = {
  GET_READER_CAPABILITIES: 1,
  GET_READER_CONFIG: 2,
  SET_READER_CONFIG: 3,
  CLOSE_CONNECTION_RESPONSE: 4,
  GET_READER_CAPABILITIES_RESPONSE: 11,
  GET_READER_CONFIG_RESPONSE: 12,
  SET_READER_CONFIG_RESPONSE: 13,
  CLOSE_CONNECTION: 14,
  ADD_ROSPEC: 20,
  DELETE_ROSPEC: 21,
  START_ROSPEC: 22,
  STOP_ROSPEC: 23,
  ENABLE_ROSPEC: 24,
  DISABLE_ROSPEC: 25,
  GET_ROSPECS: 26,
  ADD_ROSPEC_RESPONSE: 30,
  DELETE_ROSPEC_RESPONSE: 31,
  START_ROSPEC_RESPONSE: 32,
  STOP_ROSPEC_RESPONSE: 33,
  ENABLE_ROSPEC_RESPONSE: 34,
  DISABLE_ROSPEC_RESPONSE: 35,
  GET_ROSPECS_RESPONSE: 36,
  ADD_ACCESSSPEC: 40,
  DELETE_ACCESSSPEC: 41,
  ENABLE_ACCESSSPEC: 42,
  DISABLE_ACCESSSPEC: 43,
  GET_ACCESSSPECS: 44,
  CLIENT_REQUEST_OP: 45,
  GET_REPORT: 46,
  ADD_ACCESSSPEC_RESPONSE: 50,
  DELETE_ACCESSSPEC_RESPONSE: 51,
  ENABLE_ACCESSSPEC_RESPONSE: 52,
  DISABLE_ACCESSSPEC_RESPONSE: 53,
  GET_ACCESSSPECS_RESPONSE: 54,
  CLIENT_REQUEST_OP_RESPONSE: 55,
  RO_ACCESS_REPORT: 61,
  KEEPALIVE: 62,
  READER_EVENT_NOTIFICATION: 63,
  ENABLE_EVENTS_AND_REPORTS: 64,
  KEEPALIVE_ACK: 72,
  ERROR_MESSAGE: 100,
  CUSTOM_MESSAGE: 1023,
} as const;
export type MessageName = keyof typeof MessageType;

const MESSAGE_NAMES = new Map<number, MessageName>(Object.entries(MessageType).map(([name, type]) => [type, name as MessageName]));

/** The spec's name of a message type, or `MESSAGE_<n>` for one this codec does not know. */
export function messageName(type: number): string {
  return MESSAGE_NAMES.get(type) ?? `MESSAGE_${type}`;
}

/** The response a reader owes for a client request; undefined for messages that get none. */
export function responseTypeOf(requestType: number): number | undefined {
  const name = MESSAGE_NAMES.get(requestType);
  return name === undefined ? undefined : (MessageType as Readonly<Record<string, number>>)[`${name}_RESPONSE`];
}

/** TLV parameter types (the high bit of the first byte clear). */
export const ParamType = {
  UTCTimestamp: 128,
  Uptime: 129,
  GeneralDeviceCapabilities: 137,
  ReceiveSensitivityTableEntry: 139,
  PerAntennaAirProtocol: 140,
  GPIOCapabilities: 141,
  ROSpec: 177,
  ROBoundarySpec: 178,
  ROSpecStartTrigger: 179,
  ROSpecStopTrigger: 182,
  AISpec: 183,
  AISpecStopTrigger: 184,
  InventoryParameterSpec: 186,
  Identification: 218,
  KeepaliveSpec: 220,
  AntennaProperties: 221,
  AntennaConfiguration: 222,
  EventsAndReports: 226,
  ROReportSpec: 237,
  TagReportContentSelector: 238,
  AccessReportSpec: 239,
  TagReportData: 240,
  EPCData: 241,
  ReaderEventNotificationSpec: 244,
  EventNotificationState: 245,
  ReaderEventNotificationData: 246,
  HoppingEvent: 247,
  GPIEvent: 248,
  ROSpecEvent: 249,
  ReportBufferLevelWarningEvent: 250,
  ReportBufferOverflowErrorEvent: 251,
  ReaderExceptionEvent: 252,
  RFSurveyEvent: 253,
  AISpecEvent: 254,
  AntennaEvent: 255,
  ConnectionAttemptEvent: 256,
  ConnectionCloseEvent: 257,
  LLRPStatus: 287,
  FieldError: 288,
  ParameterError: 289,
  SpecLoopEvent: 356,
  Custom: 1023,
} as const;

/** TV parameter types (high bit set, 7-bit type) and their value length in bytes. */
export const TvType = {
  AntennaID: 1,
  FirstSeenTimestampUTC: 2,
  FirstSeenTimestampUptime: 3,
  LastSeenTimestampUTC: 4,
  LastSeenTimestampUptime: 5,
  PeakRSSI: 6,
  ChannelIndex: 7,
  TagSeenCount: 8,
  ROSpecID: 9,
  InventoryParameterSpecID: 10,
  C1G2_CRC: 11,
  C1G2_PC: 12,
  EPC_96: 13,
  SpecIndex: 14,
  ClientRequestOpSpecResult: 15,
  AccessSpecID: 16,
  OpSpecID: 17,
  C1G2SingulationDetails: 18,
  C1G2XPCW1: 19,
  C1G2XPCW2: 20,
} as const;

/** Value bytes of each TV type. A TV parameter carries no length, so an unknown one cannot be skipped. */
export const TV_LENGTHS: ReadonlyMap<number, number> = new Map([
  [TvType.AntennaID, 2],
  [TvType.FirstSeenTimestampUTC, 8],
  [TvType.FirstSeenTimestampUptime, 8],
  [TvType.LastSeenTimestampUTC, 8],
  [TvType.LastSeenTimestampUptime, 8],
  [TvType.PeakRSSI, 1],
  [TvType.ChannelIndex, 2],
  [TvType.TagSeenCount, 2],
  [TvType.ROSpecID, 4],
  [TvType.InventoryParameterSpecID, 2],
  [TvType.C1G2_CRC, 2],
  [TvType.C1G2_PC, 2],
  [TvType.EPC_96, 12],
  [TvType.SpecIndex, 2],
  [TvType.ClientRequestOpSpecResult, 2],
  [TvType.AccessSpecID, 4],
  [TvType.OpSpecID, 2],
  [TvType.C1G2SingulationDetails, 4],
  [TvType.C1G2XPCW1, 2],
  [TvType.C1G2XPCW2, 2],
]);

/** LLRPStatus codes, named as in the spec (and the LTK XML). */
export const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'M_Success'],
  [100, 'M_ParameterError'],
  [101, 'M_FieldError'],
  [102, 'M_UnexpectedParameter'],
  [103, 'M_MissingParameter'],
  [104, 'M_DuplicateParameter'],
  [105, 'M_OverflowParameter'],
  [106, 'M_OverflowField'],
  [107, 'M_UnknownParameter'],
  [108, 'M_UnknownField'],
  [109, 'M_UnsupportedMessage'],
  [110, 'M_UnsupportedVersion'],
  [111, 'M_UnsupportedParameter'],
  [112, 'M_UnexpectedMessage'],
  [200, 'P_ParameterError'],
  [201, 'P_FieldError'],
  [202, 'P_UnexpectedParameter'],
  [203, 'P_MissingParameter'],
  [204, 'P_DuplicateParameter'],
  [205, 'P_OverflowParameter'],
  [206, 'P_OverflowField'],
  [207, 'P_UnknownParameter'],
  [208, 'P_UnknownField'],
  [209, 'P_UnsupportedParameter'],
  [300, 'A_Invalid'],
  [301, 'A_OutOfRange'],
  [401, 'R_DeviceError'],
]);
export const STATUS_SUCCESS = 0;

export function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? `Status_${code}`;
}

/** ReaderEventNotificationSpec event types. */
export const ReaderEventType = {
  HoppingToNextChannel: 0,
  GPIEvent: 1,
  ROSpecEvent: 2,
  ReportBufferFillWarning: 3,
  ReaderExceptionEvent: 4,
  RFSurveyEvent: 5,
  AISpecEvent: 6,
  AISpecEventWithDetails: 7,
  AntennaEvent: 8,
  SpecLoopEvent: 9,
} as const;

export const CONNECTION_ATTEMPT_STATUS = [
  'Success',
  'Failed_A_Reader_Initiated_Connection_Already_Exists',
  'Failed_A_Client_Initiated_Connection_Already_Exists',
  'Failed_Reason_Other_Than_A_Connection_Already_Exists',
  'Another_Connection_Attempted',
] as const;

export const ROReportTrigger = { None: 0, UponNTagsOrEndOfAISpec: 1, UponNTagsOrEndOfROSpec: 2 } as const;
export const StartTriggerType = { Null: 0, Immediate: 1, Periodic: 2, GPI: 3 } as const;
export const StopTriggerType = { Null: 0, Duration: 1, GPIWithTimeout: 2, TagObservation: 3 } as const;
export const AirProtocol = { Unspecified: 0, EPCGlobalClass1Gen2: 1 } as const;
export const RequestedData = { All: 0, GeneralDeviceCapabilities: 1, LLRPCapabilities: 2, RegulatoryCapabilities: 3, AirProtocolCapabilities: 4 } as const;
