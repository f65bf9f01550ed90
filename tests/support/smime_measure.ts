/**
 * Peak-memory and time measurement for smime seal/open of one large part. Not a test: run by hand,
 * under /usr/bin/time -v so the kernel reports the peak RSS.
 *
 *   /usr/bin/time -v deno run -A tests/support/smime_measure.ts 20 both
 *
 * Arguments: payload size in MB (10^6 bytes), and "seal", "open" or "both". "seal" writes the
 * message to a temporary file and prints its path; "open" needs that path as the third argument.
 */
import { randomBytes } from "node:crypto";
import { loadCertificatePem, loadPrivateKeyPem, open, seal } from "../../modules/smime/mod.ts";
import { createTestPki } from "./smime_pki.ts";

const [sizeArg = "20", mode = "both", messagePath] = Deno.args;
const size = Number(sizeArg) * 1_000_000;
const workDir = "/tmp/bp-smime-measure";
await Deno.mkdir(workDir, { recursive: true });

// Identities are made once and reused between the seal and open runs.
if (!(await exists(`${workDir}/ca.pem`))) {
  const pki = await createTestPki();
  const a = await pki.issue("alice", { email: "alice@a.example" });
  const b = await pki.issue("bob", { email: "bob@b.example" });
  for (
    const [from, to] of [[pki.ca.certPath, "ca.pem"], [a.certPath, "a.pem"], [a.keyPath, "a.key"], [
      b.certPath,
      "b.pem",
    ], [b.keyPath, "b.key"]]
  ) {
    await Deno.copyFile(from, `${workDir}/${to}`);
  }
  await pki.cleanup();
}
const ca = await loadCertificatePem(`${workDir}/ca.pem`);
const aCert = await loadCertificatePem(`${workDir}/a.pem`);
const aKey = await loadPrivateKeyPem(`${workDir}/a.key`);
const bCert = await loadCertificatePem(`${workDir}/b.pem`);
const bKey = await loadPrivateKeyPem(`${workDir}/b.key`);

const rss = () => Math.round(Deno.memoryUsage().rss / 1e6);
let message: Uint8Array | undefined;
if (mode === "seal" || mode === "both") {
  // A base64 MIME entity of about `size` bytes (the relay seals base64 zip parts): 76-character
  // lines plus CRLF, repeated from one random block whose length is a whole number of lines.
  const header = new TextEncoder().encode(
    "Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n",
  );
  const block = new TextEncoder().encode(
    randomBytes(57 * 1000).toString("base64").replace(/.{76}/g, "$&\r\n"),
  );
  const body = Math.floor(size / 78) * 78;
  const content = new Uint8Array(header.length + body);
  content.set(header);
  for (let at = 0; at < body; at += block.length) {
    content.set(block.subarray(0, Math.min(block.length, body - at)), header.length + at);
  }
  const t0 = performance.now();
  message = await seal({ content, signerCert: aCert, signerKey: aKey, recipients: [bCert] });
  console.log(
    `seal ${sizeArg} MB: ${
      Math.round(performance.now() - t0)
    } ms, message ${message.length} bytes, rss now ${rss()} MB`,
  );
  if (mode === "seal") {
    await Deno.writeFile(`${workDir}/message.eml`, message);
    console.log(`${workDir}/message.eml`);
  }
}
if (mode === "open" || mode === "both") {
  message ??= await Deno.readFile(messagePath ?? `${workDir}/message.eml`);
  const t0 = performance.now();
  const opened = await open({
    message,
    recipientKey: bKey,
    recipientCert: bCert,
    trustAnchors: [ca],
  });
  console.log(
    `open: ${
      Math.round(performance.now() - t0)
    } ms, content ${opened.content.length} bytes, rss now ${rss()} MB`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
