import { basename } from "node:path";
import { Buffer } from "node:buffer";
import {
  type ContentAlgorithm,
  loadCertificatePem,
  loadCertificatesPem,
  loadPrivateKeyPem,
  open,
  seal,
  SmimeError,
} from "../../modules/smime/mod.ts";
import type { Command } from "./command.ts";

/** Wraps a file as one MIME entity (base64, CRLF lines), so any file can be sealed and recovered. */
function fileAsMimeEntity(name: string, bytes: Uint8Array): Uint8Array {
  const type = name.toLowerCase().endsWith(".zip") ? "application/zip" : "application/octet-stream";
  const safeName = name.replace(/[^\w.\-]/g, "_");
  const body = Buffer.from(bytes).toString("base64").replace(/.{1,76}/g, "$&\r\n");
  const head = `Content-Type: ${type}; name="${safeName}"\r\n` +
    `Content-Disposition: attachment; filename="${safeName}"\r\n` +
    "Content-Transfer-Encoding: base64\r\n\r\n";
  return new TextEncoder().encode(head + body);
}

/** The body of a single-part MIME entity, base64-decoded when it says so. */
function mimeEntityBody(entity: Uint8Array): Uint8Array {
  const text = new TextDecoder("latin1").decode(entity);
  const split = text.search(/\r?\n\r?\n/);
  if (split < 0) return entity;
  const headers = text.slice(0, split);
  const body = entity.subarray(split + (text.slice(split).match(/^\r?\n\r?\n/)![0].length));
  if (/^content-type:\s*multipart\//im.test(headers)) return entity;
  if (/^content-transfer-encoding:\s*base64/im.test(headers)) {
    return new Uint8Array(Buffer.from(new TextDecoder().decode(body), "base64"));
  }
  return body;
}

function reportSmimeFailure(command: string, error: unknown): number {
  if (error instanceof SmimeError) {
    console.error(`beeldpoort ${command}: ${error.code}: ${error.message}`);
    return 1;
  }
  throw error;
}

export const smimeSealCommand: Command = {
  name: "smime seal",
  summary: "sign and encrypt a file as an S/MIME message",
  help:
    `Usage: beeldpoort smime seal --in FILE --signer-cert C.pem --signer-key K.pem --recipient R.pem --out M.eml

Signs FILE (SHA-256, multipart/signed) and encrypts it for the recipient (RSA-OAEP key transport,
AES-256-GCM AuthEnvelopedData, or AES-256-CBC with --cbc for peers without GCM). FILE is wrapped as
one base64 attachment unless --mime says it already is a CRLF MIME entity.

Options:
  --in FILE            what to protect
  --signer-cert C.pem  our signing certificate (PEM)
  --signer-key K.pem   its private key (PEM, PKCS#8 or PKCS#1)
  --recipient R.pem    recipient certificate(s) (PEM; repeat for more)
  --out M.eml          the S/MIME message to write
  --cbc                AES-256-CBC instead of AES-256-GCM
  --mime               FILE is already a MIME entity: seal it as is
`,
  options: {
    in: { type: "string" },
    "signer-cert": { type: "string" },
    "signer-key": { type: "string" },
    recipient: { type: "string", multiple: true },
    out: { type: "string" },
    cbc: { type: "boolean" },
    mime: { type: "boolean" },
  },
  async run(ctx) {
    const v = ctx.values as Record<string, string | string[] | boolean | undefined>;
    for (const required of ["in", "signer-cert", "signer-key", "recipient", "out"]) {
      if (!v[required]) {
        console.error(`beeldpoort smime seal: --${required} is required\n\n${this.help}`);
        return 2;
      }
    }
    try {
      const input = Deno.readFileSync(v.in as string);
      const algorithm: ContentAlgorithm = v.cbc ? "aes-256-cbc" : "aes-256-gcm";
      const message = await seal({
        content: v.mime ? input : fileAsMimeEntity(basename(v.in as string), input),
        signerCert: await loadCertificatePem(v["signer-cert"] as string),
        signerKey: await loadPrivateKeyPem(v["signer-key"] as string),
        recipients: await Promise.all(
          (v.recipient as string[]).map((path) => loadCertificatePem(path)),
        ),
        algorithm,
      });
      Deno.writeFileSync(v.out as string, message);
      console.log(`sealed ${input.length} bytes into ${v.out} (${algorithm})`);
      return 0;
    } catch (error) {
      return reportSmimeFailure("smime seal", error);
    }
  },
};

export const smimeOpenCommand: Command = {
  name: "smime open",
  summary: "decrypt and verify an S/MIME message",
  help:
    `Usage: beeldpoort smime open --in M.eml --key K.pem --cert C.pem --trust CA.pem --out FILE [--signer S.pem]

Decrypts M.eml (AES-GCM or AES-CBC; RSA-OAEP or PKCS#1 v1.5) with our key, then verifies the
signature, the signer's chain to the trust anchors, its validity dates and key usage, and, with
--signer, that the signer is exactly that certificate. Writes the content to FILE (the attachment's
bytes; with --mime, the MIME entity as is). On failure prints the reason code and exits 1:
SMIME_DECRYPT, SMIME_INTEGRITY, SMIME_SIGNATURE_INVALID, SMIME_UNTRUSTED_SIGNER,
SMIME_CERT_EXPIRED, SMIME_KEY_USAGE, SMIME_SIGNER_MISMATCH, SMIME_FORMAT, SMIME_UNSUPPORTED.

Options:
  --in M.eml        the S/MIME message
  --key K.pem       our private key (PEM)
  --cert C.pem      our certificate (PEM)
  --trust CA.pem    trusted CA certificate(s) (PEM bundle)
  --signer S.pem    the certificate the sender must have signed with
  --out FILE        where to write the content
  --mime            write the decrypted MIME entity instead of the attachment's bytes
`,
  options: {
    in: { type: "string" },
    key: { type: "string" },
    cert: { type: "string" },
    trust: { type: "string" },
    signer: { type: "string" },
    out: { type: "string" },
    mime: { type: "boolean" },
  },
  async run(ctx) {
    const v = ctx.values;
    for (const required of ["in", "key", "cert", "trust", "out"]) {
      if (!v[required]) {
        console.error(`beeldpoort smime open: --${required} is required\n\n${this.help}`);
        return 2;
      }
    }
    try {
      const opened = await open({
        message: Deno.readFileSync(v.in as string),
        recipientKey: await loadPrivateKeyPem(v.key as string),
        recipientCert: await loadCertificatePem(v.cert as string),
        trustAnchors: await loadCertificatesPem(v.trust as string),
        expectedSigner: v.signer ? await loadCertificatePem(v.signer as string) : undefined,
      });
      const content = v.mime ? opened.content : mimeEntityBody(opened.content);
      Deno.writeFileSync(v.out as string, content);
      console.log(
        `verified: signed by ${opened.signer.subject} (${opened.algorithm}); wrote ${content.length} bytes to ${v.out}`,
      );
      return 0;
    } catch (error) {
      return reportSmimeFailure("smime open", error);
    }
  },
};
