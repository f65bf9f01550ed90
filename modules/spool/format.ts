/**
 * The on-disk format of a spool object, version 1.
 *
 *     offset  size  field
 *     0       4     magic "BPSP"
 *     4       2     version (1), big-endian like every integer here
 *     6       2     header size (4096)
 *     8       4     chunk size: plaintext bytes per chunk (the last chunk may be shorter)
 *     12      4     flags (0)
 *     16      1     id length, then the id in ASCII, zero-padded up to offset 48
 *     48      8     plaintext size
 *     56      32    SHA-256 of the plaintext
 *     512     56    key slot A   } kind (1 = AES-KW, RFC 3394), 7 reserved, 8-byte master-key id,
 *     1024    56    key slot B   } 40-byte wrapped data key. Kind 0 = empty.
 *     4096          chunks: AES-256-GCM ciphertext followed by its 16-byte tag
 *
 * Bytes 0..48 are the immutable part: every chunk's additional data starts with them, so a chunk
 * cannot be moved to another object or format. Size and digest sit in the final chunk's additional
 * data (they are known when the final chunk is sealed), so they are authenticated without a MAC
 * over the header. The key slots are not authenticated by GCM: AES-KW's integrity check covers
 * them, and they must change on key rotation without touching the data.
 *
 * Two slots, in different 512-byte sectors, let a rotation write the new wrapping beside the old
 * one, fsync, and only then clear the old: a torn write never leaves an object without a key.
 * @module
 */

export const MAGIC = new Uint8Array([0x42, 0x50, 0x53, 0x50]); // "BPSP"
export const VERSION = 1;
export const HEADER_SIZE = 4096;
export const TAG_SIZE = 16;
/** Length of the header prefix included in every chunk's additional data. */
export const FIXED_SIZE = 48;
const ID_MAX = FIXED_SIZE - 17;
const SIZE_OFFSET = 48;
const DIGEST_OFFSET = 56;
export const SLOT_OFFSETS = [512, 1024] as const;
export const SLOT_SIZE = 56;
export const SLOT_KIND_EMPTY = 0;
export const SLOT_KIND_AES_KW = 1;
export const KEK_ID_SIZE = 8;
export const WRAPPED_KEY_SIZE = 40;

/** One key slot as stored. */
export interface KeySlot {
  kind: number;
  kekId: Uint8Array<ArrayBuffer>;
  wrapped: Uint8Array<ArrayBuffer>;
}

/** A parsed header. */
export interface Header {
  version: number;
  chunkSize: number;
  id: string;
  size: number;
  sha256: Uint8Array<ArrayBuffer>;
  slots: [KeySlot, KeySlot];
  /** Bytes 0..48, the prefix of every chunk's additional data. */
  fixed: Uint8Array<ArrayBuffer>;
}

/** Builds a header for a new object; size and digest are filled in by `sealHeaderTotals`. */
export function encodeHeader(id: string, chunkSize: number, slotA: KeySlot): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint16(4, VERSION);
  view.setUint16(6, HEADER_SIZE);
  view.setUint32(8, chunkSize);
  view.setUint32(12, 0);
  const idBytes = new TextEncoder().encode(id);
  if (idBytes.length > ID_MAX) throw new RangeError(`id longer than ${ID_MAX} bytes`);
  bytes[16] = idBytes.length;
  bytes.set(idBytes, 17);
  bytes.set(encodeSlot(slotA), SLOT_OFFSETS[0]);
  return bytes;
}

/** The 40 bytes at offset 48 (size and digest), written once the stream has ended. */
export function encodeTotals(
  size: number,
  sha256: Uint8Array,
): { offset: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(8 + 32);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(size));
  bytes.set(sha256, 8);
  return { offset: SIZE_OFFSET, bytes };
}

export function encodeSlot(slot: KeySlot): Uint8Array {
  const bytes = new Uint8Array(SLOT_SIZE);
  bytes[0] = slot.kind;
  bytes.set(slot.kekId, 8);
  bytes.set(slot.wrapped, 16);
  return bytes;
}

export const emptySlot: KeySlot = {
  kind: SLOT_KIND_EMPTY,
  kekId: new Uint8Array(KEK_ID_SIZE),
  wrapped: new Uint8Array(WRAPPED_KEY_SIZE),
};

/** Parses a header; returns a reason string instead of throwing so callers can name the object. */
export function decodeHeader(bytes: Uint8Array): Header | string {
  if (bytes.length < HEADER_SIZE) return "header shorter than 4096 bytes";
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return "not a spool object";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4);
  if (version !== VERSION) return `unknown format version ${version}`;
  if (view.getUint16(6) !== HEADER_SIZE) return "unexpected header size";
  const chunkSize = view.getUint32(8);
  if (chunkSize === 0) return "chunk size 0";
  const idLength = bytes[16];
  if (idLength > ID_MAX) return "id too long";
  const id = new TextDecoder().decode(bytes.subarray(17, 17 + idLength));
  const size = view.getBigUint64(SIZE_OFFSET);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return "size out of range";
  const slot = (offset: number): KeySlot => ({
    kind: bytes[offset],
    kekId: bytes.slice(offset + 8, offset + 8 + KEK_ID_SIZE),
    wrapped: bytes.slice(offset + 16, offset + 16 + WRAPPED_KEY_SIZE),
  });
  return {
    version,
    chunkSize,
    id,
    size: Number(size),
    sha256: bytes.slice(DIGEST_OFFSET, DIGEST_OFFSET + 32),
    slots: [slot(SLOT_OFFSETS[0]), slot(SLOT_OFFSETS[1])],
    fixed: bytes.slice(0, FIXED_SIZE),
  };
}

/** Number of chunks for `size` plaintext bytes: an empty object still has one (final) chunk. */
export function chunkCount(size: number, chunkSize: number): number {
  return size === 0 ? 1 : Math.ceil(size / chunkSize);
}

/** The exact file length an intact object of this size has. */
export function expectedFileLength(size: number, chunkSize: number): number {
  return HEADER_SIZE + size + chunkCount(size, chunkSize) * TAG_SIZE;
}

/**
 * The GCM nonce of chunk `index`: 4 zero bytes and the 64-bit index. A counter is a safe nonce
 * because every object has its own fresh data key (NIST SP 800-38D 8.2.1, deterministic
 * construction): no (key, nonce) pair is ever used twice.
 */
export function chunkNonce(index: number): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(index));
  return nonce;
}

/**
 * A chunk's additional data: the fixed header, the index (so reordering fails), and a final flag
 * (so truncation at a chunk boundary fails). The final chunk adds size and digest.
 */
export function chunkAad(
  fixed: Uint8Array,
  index: number,
  final: { size: number; sha256: Uint8Array } | null,
): Uint8Array<ArrayBuffer> {
  const aad = new Uint8Array(FIXED_SIZE + 9 + (final ? 40 : 0));
  aad.set(fixed, 0);
  const view = new DataView(aad.buffer);
  view.setBigUint64(FIXED_SIZE, BigInt(index));
  aad[FIXED_SIZE + 8] = final ? 1 : 0;
  if (final) {
    view.setBigUint64(FIXED_SIZE + 9, BigInt(final.size));
    aad.set(final.sha256, FIXED_SIZE + 17);
  }
  return aad;
}
