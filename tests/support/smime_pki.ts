/**
 * A throw-away test PKI made with the openssl CLI: a CA and leaf certificates for S/MIME tests
 * (smime, mail relay, address book). Everything lives in one temporary directory; call `cleanup`.
 *
 * ```ts
 * const pki = await createTestPki();
 * const alice = await pki.issue("alice", { email: "alice@a.example" });
 * // alice.certPath, alice.keyPath, pki.ca.certPath
 * await pki.cleanup();
 * ```
 */
import { join } from "node:path";

/** A certificate and its key on disk. */
export interface TestIdentity {
  readonly name: string;
  readonly email?: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** A CA that can issue leaves. */
export interface TestCa extends TestIdentity {
  /** Issues a leaf certificate signed by this CA. */
  issue(name: string, options?: IssueOptions): Promise<TestIdentity>;
  /** Marks a certificate this CA issued as revoked (openssl ca -revoke). */
  revoke(identity: TestIdentity): Promise<void>;
  /** Writes this CA's current CRL (PEM, valid 30 days) and returns its path. */
  crl(): Promise<string>;
}

/** How to shape a leaf certificate. */
export interface IssueOptions {
  readonly email?: string;
  /** Validity start, default one day ago. */
  readonly notBefore?: Date;
  /** Validity end, default one year ahead. */
  readonly notAfter?: Date;
  /** keyUsage extension value, default "critical, digitalSignature, nonRepudiation, keyEncipherment". */
  readonly keyUsage?: string;
  /** extendedKeyUsage extension value, default "emailProtection"; "" leaves it out. */
  readonly extendedKeyUsage?: string;
  /** RSA modulus size, default 2048. */
  readonly bits?: number;
  /** subjectAltName value for TLS leaves, e.g. "IP:127.0.0.1, DNS:localhost" (replaces email). */
  readonly subjectAltName?: string;
}

/** The test PKI: a main CA, helpers for other CAs, and cleanup. */
export interface TestPki {
  readonly dir: string;
  /** The main CA; `pki.issue` is a shortcut for `pki.ca.issue`. */
  readonly ca: TestCa;
  issue(name: string, options?: IssueOptions): Promise<TestIdentity>;
  /** Another, independent CA (for "untrusted signer" cases). */
  createCa(name: string): Promise<TestCa>;
  /** Exports an identity with its CA as PKCS#12; `legacy3des` uses the pre-AES Windows algorithms. */
  pkcs12(
    identity: TestIdentity,
    password: string,
    options?: { legacy3des?: boolean; ca?: TestCa },
  ): Promise<string>;
  cleanup(): Promise<void>;
}

/** Runs openssl with `args`; throws with its stderr on failure. */
export async function openssl(
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array } = {},
): Promise<Uint8Array> {
  const child = new Deno.Command("openssl", {
    args,
    cwd: options.cwd,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}

/**
 * What a peer running OpenSSL makes of a message: `openssl cms -decrypt` with the recipient's key,
 * then `-verify` against `caPath` for S/MIME signing; returns the signed content. Files go to `dir`.
 */
export async function opensslOpen(
  dir: string,
  message: Uint8Array,
  recipient: { certPath: string; keyPath: string },
  caPath: string,
): Promise<Uint8Array> {
  const path = (name: string) => `${dir}/${name}`;
  await Deno.writeFile(path("part.eml"), message);
  await openssl([
    "cms",
    "-decrypt",
    "-in",
    path("part.eml"),
    "-recip",
    recipient.certPath,
    "-inkey",
    recipient.keyPath,
    "-out",
    path("signed.eml"),
  ]);
  await openssl([
    "cms",
    "-verify",
    "-in",
    path("signed.eml"),
    "-CAfile",
    caPath,
    "-purpose",
    "smimesign",
    "-out",
    path("content.eml"),
  ]);
  return await Deno.readFile(path("content.eml"));
}

/** openssl `ca` date form, YYYYMMDDHHMMSSZ. */
function caDate(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/[-T:]/g, "") + "Z";
}

/** Creates a temporary directory with a CA in it. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "bp-smime-pki-" });
  let counter = 0;

  async function createCa(name: string): Promise<TestCa> {
    const caDir = join(dir, `ca-${name}`);
    await Deno.mkdir(join(caDir, "new"), { recursive: true });
    await Deno.writeTextFile(join(caDir, "index.txt"), "");
    await Deno.writeTextFile(
      join(caDir, "serial"),
      (0x1000 + ++counter * 0x100).toString(16).toUpperCase() + "\n",
    );
    const config = join(caDir, "ca.cnf");
    await Deno.writeTextFile(
      config,
      [
        "[ca]",
        "default_ca = this",
        "[this]",
        `dir = ${caDir}`,
        "database = $dir/index.txt",
        "new_certs_dir = $dir/new",
        "serial = $dir/serial",
        "default_md = sha256",
        "policy = any",
        "unique_subject = no",
        "email_in_dn = no",
        "[any]",
        "commonName = supplied",
        "organizationName = optional",
        "[req]",
        "distinguished_name = dn",
        "[dn]",
        "[v3_ca]",
        "basicConstraints = critical, CA:true",
        "keyUsage = critical, keyCertSign, cRLSign",
        "subjectKeyIdentifier = hash",
        "",
      ].join("\n"),
    );
    const certPath = join(caDir, "ca.pem");
    const keyPath = join(caDir, "ca.key");
    await openssl([
      "genpkey",
      "-algorithm",
      "RSA",
      "-pkeyopt",
      "rsa_keygen_bits:2048",
      "-out",
      keyPath,
    ]);
    await openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      keyPath,
      "-out",
      certPath,
      "-days",
      "3650",
      "-sha256",
      "-subj",
      `/O=Beeldpoort Test/CN=${name}`,
      "-config",
      config,
      "-extensions",
      "v3_ca",
    ]);
    const ca: TestCa = {
      name,
      certPath,
      keyPath,
      async issue(leafName: string, options: IssueOptions = {}): Promise<TestIdentity> {
        const base = join(dir, leafName);
        const leafKey = `${base}.key`;
        const csr = `${base}.csr`;
        const leafCert = `${base}.pem`;
        const ext = `${base}.ext`;
        await openssl([
          "genpkey",
          "-algorithm",
          "RSA",
          "-pkeyopt",
          `rsa_keygen_bits:${options.bits ?? 2048}`,
          "-out",
          leafKey,
        ]);
        await openssl([
          "req",
          "-new",
          "-key",
          leafKey,
          "-out",
          csr,
          "-subj",
          `/O=Beeldpoort Test/CN=${leafName}`,
          "-config",
          config,
        ]);
        const eku = options.extendedKeyUsage ?? "emailProtection";
        await Deno.writeTextFile(
          ext,
          [
            "[leaf]",
            "basicConstraints = CA:false",
            `keyUsage = ${
              options.keyUsage ?? "critical, digitalSignature, nonRepudiation, keyEncipherment"
            }`,
            eku ? `extendedKeyUsage = ${eku}` : "",
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid",
            options.subjectAltName
              ? `subjectAltName = ${options.subjectAltName}`
              : options.email
              ? `subjectAltName = email:${options.email}`
              : "",
            "",
          ].join("\n"),
        );
        const now = Date.now();
        await openssl([
          "ca",
          "-batch",
          "-config",
          config,
          "-in",
          csr,
          "-out",
          leafCert,
          "-notext",
          "-cert",
          certPath,
          "-keyfile",
          keyPath,
          "-extfile",
          ext,
          "-extensions",
          "leaf",
          "-startdate",
          caDate(options.notBefore ?? new Date(now - 86_400_000)),
          "-enddate",
          caDate(options.notAfter ?? new Date(now + 365 * 86_400_000)),
        ]);
        return { name: leafName, email: options.email, certPath: leafCert, keyPath: leafKey };
      },
      async revoke(identity: TestIdentity) {
        const ca = ["-config", config, "-cert", certPath, "-keyfile", keyPath];
        await openssl(["ca", "-batch", ...ca, "-revoke", identity.certPath]);
      },
      async crl() {
        const out = join(caDir, `crl-${++counter}.pem`);
        const ca = ["-config", config, "-cert", certPath, "-keyfile", keyPath];
        await openssl(["ca", "-batch", ...ca, "-gencrl", "-crldays", "30", "-out", out]);
        return out;
      },
    };
    return ca;
  }

  const ca = await createCa("Beeldpoort Test CA");
  return {
    dir,
    ca,
    issue: (name, options) => ca.issue(name, options),
    createCa,
    async pkcs12(identity, password, options = {}) {
      const out = join(dir, `${identity.name}${options.legacy3des ? "-3des" : ""}.p12`);
      const legacy = options.legacy3des
        ? ["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"]
        : [];
      await openssl([
        "pkcs12",
        "-export",
        "-inkey",
        identity.keyPath,
        "-in",
        identity.certPath,
        "-certfile",
        (options.ca ?? ca).certPath,
        "-passout",
        `pass:${password}`,
        "-out",
        out,
        ...legacy,
      ]);
      return out;
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
