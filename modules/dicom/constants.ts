/** UIDs, PDU types and the code tables of PS3.7 and PS3.8 that the rest of the module shares. */

/** PS3.7 Annex A.2.1: the one DICOM application context name. */
export const applicationContextUid = "1.2.840.10008.3.1.1.1";

/**
 * PS3.4 Annex A: the Verification SOP Class (C-ECHO).
 *
 * @example
 * ```ts
 * proposal.abstractSyntax === verificationSopClassUid;
 * ```
 */
export const verificationSopClassUid = "1.2.840.10008.1.1";

/**
 * Our implementation class UID (PS3.7 D.3.3.2), under the UUID-derived root 2.25 (PS3.5 B.2) so it
 * needs no registered organisation root.
 */
export const defaultImplementationClassUid = "2.25.104248454091711682490835274417454570978";

/** PS3.7 D.3.3.2: at most 16 characters. */
export const defaultImplementationVersionName = "BEELDPOORT_010";

/**
 * Transfer syntaxes (PS3.5 Section 10, PS3.6 Annex A).
 *
 * @example
 * ```ts
 * if (ts === TransferSyntax.implicitLittle) console.log("ILE");
 * ```
 */
export const TransferSyntax = {
  implicitLittle: "1.2.840.10008.1.2",
  explicitLittle: "1.2.840.10008.1.2.1",
  deflatedExplicitLittle: "1.2.840.10008.1.2.1.99",
  explicitBig: "1.2.840.10008.1.2.2",
  jpegBaseline: "1.2.840.10008.1.2.4.50",
  jpegLossless: "1.2.840.10008.1.2.4.70",
  jpegLs: "1.2.840.10008.1.2.4.80",
  jpeg2000Lossless: "1.2.840.10008.1.2.4.90",
  rle: "1.2.840.10008.1.2.5",
} as const;

/**
 * Every transfer syntax we store as received. We never decode pixel data, so a compressed syntax
 * costs us nothing and keeps the sender's bytes (and any digital signature) intact (PS3.15 A.3).
 *
 * @example
 * ```ts
 * storableTransferSyntaxes.has("1.2.840.10008.1.2.4.90"); // true
 * ```
 */
export const storableTransferSyntaxes: ReadonlySet<string> = new Set([
  "1.2.840.10008.1.2", // Implicit VR Little Endian
  "1.2.840.10008.1.2.1", // Explicit VR Little Endian
  "1.2.840.10008.1.2.1.98", // Encapsulated Uncompressed Explicit VR Little Endian
  "1.2.840.10008.1.2.1.99", // Deflated Explicit VR Little Endian
  "1.2.840.10008.1.2.2", // Explicit VR Big Endian (retired, still sent by old modalities)
  "1.2.840.10008.1.2.4.50", // JPEG Baseline
  "1.2.840.10008.1.2.4.51", // JPEG Extended
  "1.2.840.10008.1.2.4.57", // JPEG Lossless
  "1.2.840.10008.1.2.4.70", // JPEG Lossless SV1
  "1.2.840.10008.1.2.4.80", // JPEG-LS Lossless
  "1.2.840.10008.1.2.4.81", // JPEG-LS Near-Lossless
  "1.2.840.10008.1.2.4.90", // JPEG 2000 Lossless Only
  "1.2.840.10008.1.2.4.91", // JPEG 2000
  "1.2.840.10008.1.2.4.92", // JPEG 2000 Part 2 Lossless Only
  "1.2.840.10008.1.2.4.93", // JPEG 2000 Part 2
  "1.2.840.10008.1.2.4.100", // MPEG2 Main Profile / Main Level
  "1.2.840.10008.1.2.4.100.1", // Fragmentable MPEG2 MP@ML
  "1.2.840.10008.1.2.4.101", // MPEG2 Main Profile / High Level
  "1.2.840.10008.1.2.4.101.1",
  "1.2.840.10008.1.2.4.102", // MPEG-4 AVC/H.264 High Profile / Level 4.1
  "1.2.840.10008.1.2.4.102.1",
  "1.2.840.10008.1.2.4.103", // MPEG-4 AVC/H.264 BD-compatible
  "1.2.840.10008.1.2.4.103.1",
  "1.2.840.10008.1.2.4.104", // MPEG-4 AVC/H.264 for 2D video
  "1.2.840.10008.1.2.4.104.1",
  "1.2.840.10008.1.2.4.105", // MPEG-4 AVC/H.264 for 3D video
  "1.2.840.10008.1.2.4.105.1",
  "1.2.840.10008.1.2.4.106", // MPEG-4 AVC/H.264 Stereo High Profile
  "1.2.840.10008.1.2.4.106.1",
  "1.2.840.10008.1.2.4.107", // HEVC/H.265 Main Profile
  "1.2.840.10008.1.2.4.108", // HEVC/H.265 Main 10 Profile
  "1.2.840.10008.1.2.4.201", // High-Throughput JPEG 2000 Lossless
  "1.2.840.10008.1.2.4.202", // High-Throughput JPEG 2000 RPCL Lossless
  "1.2.840.10008.1.2.4.203", // High-Throughput JPEG 2000
  "1.2.840.10008.1.2.5", // RLE Lossless
]);

/** PS3.4 B.5: storage SOP classes live under this root (images, SR, KOS, PDF, raw data...). */
const storageRoot = "1.2.840.10008.5.1.4.1.1.";

/** Storage SOP classes outside that root (PS3.4 B.5 table B.5-1). */
const otherStorageClasses: ReadonlySet<string> = new Set([
  "1.2.840.10008.5.1.4.34.7", // RT Beams Delivery Instruction Storage
  "1.2.840.10008.5.1.4.34.10", // RT Brachy Application Setup Delivery Instruction Storage
  "1.2.840.10008.5.1.4.38.1", // Hanging Protocol Storage
  "1.2.840.10008.5.1.4.39.1", // Color Palette Storage
  "1.2.840.10008.5.1.4.43.1", // Generic Implant Template Storage
  "1.2.840.10008.5.1.4.44.1", // Implant Assembly Template Storage
  "1.2.840.10008.5.1.4.45.1", // Implant Template Group Storage
]);

/**
 * Whether we accept `uid` as a storage abstract syntax: any SOP class a modality may send.
 *
 * @example
 * ```ts
 * isStorageSopClass("1.2.840.10008.5.1.4.1.1.2"); // CT Image Storage: true
 * ```
 */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith(storageRoot) || otherStorageClasses.has(uid);
}

/** PS3.8 9.3.1: PDU types. */
export const PduType = {
  associateRq: 0x01,
  associateAc: 0x02,
  associateRj: 0x03,
  pData: 0x04,
  releaseRq: 0x05,
  releaseRp: 0x06,
  abort: 0x07,
} as const;

/** PS3.8 9.3.3.2 table 9-18: presentation context results. */
export const ContextResult = {
  acceptance: 0,
  userRejection: 1,
  noReason: 2,
  abstractSyntaxNotSupported: 3,
  transferSyntaxesNotSupported: 4,
} as const;

/** PS3.8 9.3.4 table 9-21: A-ASSOCIATE-RJ result, source and reason. */
export const RejectResult = { permanent: 1, transient: 2 } as const;
export const RejectSource = {
  serviceUser: 1,
  serviceProviderAcse: 2,
  serviceProviderPresentation: 3,
};

/** The reason of an A-ASSOCIATE-RJ in words, for logs a PACS administrator can read. */
export function rejectReasonText(source: number, reason: number): string {
  const table: Record<number, Record<number, string>> = {
    1: {
      1: "no reason given",
      2: "application context name not supported",
      3: "calling AE title not recognized",
      7: "called AE title not recognized",
    },
    2: { 1: "no reason given", 2: "protocol version not supported" },
    3: { 0: "reserved", 1: "temporary congestion", 2: "local limit exceeded" },
  };
  return table[source]?.[reason] ?? `source ${source} reason ${reason}`;
}

/** PS3.8 9.3.8 table 9-26: A-ABORT reasons when the source is the service provider (2). */
export const AbortReason = {
  notSpecified: 0,
  unrecognizedPdu: 1,
  unexpectedPdu: 2,
  unrecognizedPduParameter: 4,
  unexpectedPduParameter: 5,
  invalidPduParameterValue: 6,
} as const;

/** The reason of an A-ABORT in words. */
export function abortReasonText(source: number, reason: number): string {
  if (source === 0) return "aborted by the service user";
  const words: Record<number, string> = {
    0: "reason not specified",
    1: "unrecognized PDU",
    2: "unexpected PDU",
    4: "unrecognized PDU parameter",
    5: "unexpected PDU parameter",
    6: "invalid PDU parameter value",
  };
  return `aborted by the service provider: ${words[reason] ?? `reason ${reason}`}`;
}

/** PS3.7 E.1: DIMSE command field values. */
export const CommandField = {
  cStoreRq: 0x0001,
  cStoreRsp: 0x8001,
  cGetRq: 0x0010,
  cFindRq: 0x0020,
  cMoveRq: 0x0021,
  cEchoRq: 0x0030,
  cEchoRsp: 0x8030,
  cCancelRq: 0x0fff,
} as const;

/** PS3.7 E.1: Command Data Set Type value meaning "no data set". */
export const noDataSet = 0x0101;

/**
 * PS3.7 Annex C and PS3.4 B.2.3: DIMSE status codes we send.
 *
 * @example
 * ```ts
 * return { status: Status.outOfResources, comment: "spool full" };
 * ```
 */
export const Status = {
  success: 0x0000,
  outOfResources: 0xa700,
  cannotUnderstand: 0xc000,
  sopClassNotSupported: 0x0122,
  unrecognizedOperation: 0x0211,
} as const;

/** VRs with a 4-byte length after two reserved bytes in explicit VR (PS3.5 7.1.2). */
export const longVrs = new Set([
  "OB",
  "OD",
  "OF",
  "OL",
  "OV",
  "OW",
  "SQ",
  "SV",
  "UC",
  "UN",
  "UR",
  "UT",
  "UV",
]);
