import { type KeyWrap, opensslKeyWrap } from "../core/mod.ts";
import { SpoolIntegrityError, SpoolKeyError } from "./errors.ts";
import { emptySlot, type Header, KEK_ID_SIZE, type KeySlot, SLOT_KIND_AES_KW } from "./format.ts";

/** A master key ready for use: the AES-KW key-encryption key and its public id. */
export interface MasterKey {
  kek: CryptoKey;
  /** Where OpenSSL wraps and unwraps (synchronously, ~10 us): it and the key's bytes for it. */
  openssl: { keyWrap: KeyWrap; kek: Uint8Array<ArrayBuffer> } | null;
  /** First 8 bytes of HMAC-SHA256(master, label): tells which master key wrapped a slot. */
  id: Uint8Array<ArrayBuffer>;
}

const kekIdLabel = new TextEncoder().encode("beeldpoort spool master key id v1");

/** Imports a 32-byte master key; anything else is a SpoolKeyError. */
export async function importMasterKey(raw: Uint8Array): Promise<MasterKey> {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    const found = raw instanceof Uint8Array ? `${raw.length} bytes` : typeof raw;
    throw new SpoolKeyError(`master key must be 32 bytes (AES-256), found ${found}`);
  }
  const bytes = new Uint8Array(raw); // own copy: the caller may zero or reuse its buffer
  const kek = await crypto.subtle.importKey("raw", bytes, "AES-KW", false, [
    "wrapKey",
    "unwrapKey",
  ]);
  const mac = await crypto.subtle.importKey(
    "raw",
    bytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const id = new Uint8Array(await crypto.subtle.sign("HMAC", mac, kekIdLabel)).slice(
    0,
    KEK_ID_SIZE,
  );
  // A copy for OpenSSL where it is used; otherwise only the non-extractable CryptoKey holds it.
  const keyWrap = opensslKeyWrap();
  const openssl = keyWrap ? { keyWrap, kek: new Uint8Array(bytes) } : null;
  bytes.fill(0);
  return { kek, openssl, id };
}

/**
 * A fresh random AES-256-GCM data key for one object, and its slot wrapped by `master`. The key
 * is raw bytes: the chunks are sealed by core's cipher (OpenSSL), which takes keys as bytes.
 */
export async function newDataKey(
  master: MasterKey,
): Promise<{ key: Uint8Array<ArrayBuffer>; slot: KeySlot }> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  return { key, slot: await wrapFor(key, master) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Index of the slot wrapped by `master`, or -1. */
export function slotFor(header: Header, master: MasterKey): number {
  return header.slots.findIndex((s) =>
    s.kind === SLOT_KIND_AES_KW && sameBytes(s.kekId, master.id)
  );
}

/**
 * Unwraps the object's data key with `master`. A missing slot means another master key wrapped
 * it; a slot that does not unwrap was tampered with (AES-KW's integrity check, RFC 3394 2.2.3).
 */
export async function unwrapDataKey(
  header: Header,
  master: MasterKey,
): Promise<Uint8Array<ArrayBuffer>> {
  const index = slotFor(header, master);
  if (index < 0) {
    throw new SpoolIntegrityError(
      header.id,
      "wrong-key",
      "no key slot is wrapped by this master key",
    );
  }
  const { openssl } = master;
  try {
    if (openssl) return openssl.keyWrap.unwrap(openssl.kek, header.slots[index].wrapped);
    const key = await crypto.subtle.unwrapKey(
      "raw",
      header.slots[index].wrapped,
      master.kek,
      "AES-KW",
      "AES-GCM",
      true,
      ["encrypt", "decrypt"],
    );
    return new Uint8Array(await crypto.subtle.exportKey("raw", key));
  } catch (cause) {
    throw new SpoolIntegrityError(header.id, "key-unwrap", "wrapped data key fails its check", {
      cause,
    });
  }
}

/** Wraps a data key for `master`. */
export async function wrapFor(key: Uint8Array<ArrayBuffer>, master: MasterKey): Promise<KeySlot> {
  const { openssl } = master;
  if (openssl) {
    const wrapped = openssl.keyWrap.wrap(openssl.kek, key);
    return { kind: SLOT_KIND_AES_KW, kekId: master.id, wrapped };
  }
  // WebCrypto wraps only keys, not bytes: import it for the moment of the wrap.
  const data = await crypto.subtle.importKey("raw", key, "AES-GCM", true, ["encrypt"]);
  const wrapped = new Uint8Array(await crypto.subtle.wrapKey("raw", data, master.kek, "AES-KW"));
  return { kind: SLOT_KIND_AES_KW, kekId: master.id, wrapped };
}

export { emptySlot };
