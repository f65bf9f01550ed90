/**
 * Test certificates for the address book, made with `openssl ca` so validity dates can lie in the
 * past (an expired peer) and UZI subjectAltNames carry a URA (otherName 2.5.5.5). Synthetic only.
 */
import { join } from "node:path";

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

function opensslDate(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** What to put in a leaf certificate. */
export interface LeafOptions {
  commonName: string;
  email?: string;
  /** Puts the UZI identity with this URA in otherName 2.5.5.5 (UZI server certificate, "S"). */
  ura?: string;
  /** Puts this URA in otherName permanentIdentifier (RFC 4043) with the URA register as assigner. */
  permanentIdentifierUra?: string;
  use?: "encryption" | "signing" | "both";
  notBefore: Date;
  notAfter: Date;
}

/** An issued certificate: DER, and files for openssl (PEM certificate, shared leaf key). */
export interface IssuedCertificate {
  der: Uint8Array;
  certPath: string;
  keyPath: string;
}

/** A throw-away CA in a temporary folder. */
export interface TestCa {
  dir: string;
  der: Uint8Array;
  certPath: string;
  issue(options: LeafOptions): Promise<IssuedCertificate>;
  cleanup(): Promise<void>;
}

const usage = {
  encryption: "critical, keyEncipherment",
  signing: "critical, digitalSignature, nonRepudiation",
  both: "critical, digitalSignature, keyEncipherment",
};

/**
 * Creates a CA valid 2000-2099 with one RSA key shared by all its leaves (key generation is the
 * slow part; the address book never looks at private keys).
 */
export async function createTestCa(name = "Beeldpoort Test CA"): Promise<TestCa> {
  const dir = await Deno.makeTempDir({ prefix: "beeldpoort-addressbook-ca-" });
  await Deno.writeTextFile(join(dir, "index.txt"), "");
  await Deno.writeTextFile(join(dir, "serial"), "1000\n");
  await Deno.writeTextFile(
    join(dir, "ca.cnf"),
    `[ca]
default_ca = test
[test]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
certificate = ${dir}/ca.pem
private_key = ${dir}/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[any]
commonName = supplied
organizationName = optional
countryName = optional
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`,
  );
  await openssl(["genrsa", "-out", "ca.key", "2048"], dir);
  await openssl(["genrsa", "-out", "leaf.key", "2048"], dir);
  await openssl([
    "req",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    `/C=NL/O=Beeldpoort Test/CN=${name}`,
    "-out",
    "ca.csr",
    "-config",
    "ca.cnf",
  ], dir);
  await openssl([
    "ca",
    "-batch",
    "-selfsign",
    "-config",
    "ca.cnf",
    "-in",
    "ca.csr",
    "-out",
    "ca.pem",
    "-startdate",
    "20000101000000Z",
    "-enddate",
    "20991231000000Z",
    "-extensions",
    "ca_ext",
    "-notext",
  ], dir);
  const certPath = join(dir, "ca.pem");
  let count = 0;
  return {
    dir,
    certPath,
    der: pemToDer(await Deno.readTextFile(certPath)),
    async issue(options) {
      const n = ++count;
      const alt: string[] = [];
      if (options.email) alt.push(`email:${options.email}`);
      if (options.ura) {
        // UZI-register: <OID CA>-<version>-<UZI number>-<card type>-<URA>-<role>-<AGB>
        alt.push(
          `otherName:2.5.5.5;IA5STRING:2.16.528.1.1003.1.3.5.5.5-1-9000${n}-S-${options.ura}-00.000-00000000`,
        );
      }
      if (options.permanentIdentifierUra) {
        alt.push("otherName:1.3.6.1.5.5.7.8.3;SEQUENCE:permanent_id");
      }
      await Deno.writeTextFile(
        join(dir, `leaf${n}.cnf`),
        `[v3]
basicConstraints = CA:FALSE
keyUsage = ${usage[options.use ?? "both"]}
extendedKeyUsage = emailProtection
${alt.length ? `subjectAltName = ${alt.join(", ")}` : ""}
[permanent_id]
identifierValue = UTF8:${options.permanentIdentifierUra ?? ""}
assigner = OID:2.16.528.1.1007.3.3
`,
      );
      await openssl([
        "req",
        "-new",
        "-key",
        "leaf.key",
        "-subj",
        `/C=NL/O=Test/CN=${options.commonName}`,
        "-out",
        `leaf${n}.csr`,
        "-config",
        "ca.cnf",
      ], dir);
      await openssl([
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-in",
        `leaf${n}.csr`,
        "-out",
        `leaf${n}.pem`,
        "-startdate",
        opensslDate(options.notBefore),
        "-enddate",
        opensslDate(options.notAfter),
        "-extfile",
        `leaf${n}.cnf`,
        "-extensions",
        "v3",
        "-notext",
      ], dir);
      const pemPath = join(dir, `leaf${n}.pem`);
      return {
        der: pemToDer(await Deno.readTextFile(pemPath)),
        certPath: pemPath,
        keyPath: join(dir, "leaf.key"),
      };
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Signs `content` with CMS SignedData (content inside), as a bundle distributor would. */
export async function signWithOpenssl(
  content: Uint8Array,
  signer: IssuedCertificate,
  dir: string,
): Promise<Uint8Array> {
  const input = join(dir, `content-${crypto.randomUUID()}.json`);
  const output = `${input}.p7m`;
  await Deno.writeFile(input, content);
  await openssl([
    "cms",
    "-sign",
    "-nodetach",
    "-binary",
    "-outform",
    "DER",
    "-md",
    "sha256",
    "-signer",
    signer.certPath,
    "-inkey",
    signer.keyPath,
    "-in",
    input,
    "-out",
    output,
  ], dir);
  return await Deno.readFile(output);
}
