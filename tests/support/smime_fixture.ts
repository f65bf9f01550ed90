/**
 * Shared fixture for the smime tests: a test PKI with the identities every case needs, loaded both
 * as files (for openssl) and as smime objects (for us). Also a synthetic MIME entity maker.
 */
import { randomBytes } from "node:crypto";
import {
  type Certificate,
  loadCertificatePem,
  loadPrivateKeyPem,
  type PrivateKey,
} from "../../modules/smime/mod.ts";
import { createTestPki, type TestIdentity, type TestPki } from "./smime_pki.ts";

/** An identity on disk and loaded. */
export interface LoadedIdentity extends TestIdentity {
  readonly cert: Certificate;
  readonly key: PrivateKey;
}

/** The cast: alice signs, bob receives, carol is a bystander, mallory has another CA, old is expired. */
export interface SmimeFixture {
  readonly pki: TestPki;
  readonly ca: Certificate;
  readonly alice: LoadedIdentity;
  readonly bob: LoadedIdentity;
  readonly carol: LoadedIdentity;
  readonly mallory: LoadedIdentity;
  readonly old: LoadedIdentity;
  readonly server: LoadedIdentity;
}

async function load(identity: TestIdentity): Promise<LoadedIdentity> {
  return {
    ...identity,
    cert: await loadCertificatePem(identity.certPath),
    key: await loadPrivateKeyPem(identity.keyPath),
  };
}

/** Builds the fixture; call `fixture.pki.cleanup()` when done. */
export async function createSmimeFixture(): Promise<SmimeFixture> {
  const pki = await createTestPki();
  const otherCa = await pki.createCa("Elsewhere CA");
  return {
    pki,
    ca: await loadCertificatePem(pki.ca.certPath),
    alice: await load(await pki.issue("alice", { email: "alice@zkh-a.example" })),
    bob: await load(await pki.issue("bob", { email: "bob@zkh-b.example" })),
    carol: await load(await pki.issue("carol", { email: "carol@zkh-c.example" })),
    mallory: await load(await otherCa.issue("mallory", { email: "alice@zkh-a.example" })),
    old: await load(
      await pki.issue("old", {
        email: "old@zkh-a.example",
        notBefore: new Date("2020-01-01T00:00:00Z"),
        notAfter: new Date("2021-01-01T00:00:00Z"),
      }),
    ),
    server: await load(
      await pki.issue("server", { email: "srv@zkh-a.example", extendedKeyUsage: "serverAuth" }),
    ),
  };
}

/**
 * A canonical (CRLF) MIME entity with `size` random bytes as a base64 attachment; the kind of
 * entity the relay seals (an XDM zip part).
 */
export function mimeEntity(size: number): Uint8Array {
  const b64 = Buffer.from(randomBytes(size)).toString("base64").replace(/.{76}/g, "$&\r\n");
  const text = 'Content-Type: application/zip; name="part-1.zip"\r\n' +
    "Content-Transfer-Encoding: base64\r\n" +
    'Content-Disposition: attachment; filename="part-1.zip"\r\n\r\n' +
    b64 + (b64.endsWith("\r\n") ? "" : "\r\n");
  return new TextEncoder().encode(text);
}
