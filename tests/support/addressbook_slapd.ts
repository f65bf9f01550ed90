/**
 * A throw-away OpenLDAP `slapd` for the address book's LDAP tests: its own slapd.conf and mdb
 * database in a temporary folder, loaded with slapadd, listening on loopback only.
 */
import { join } from "node:path";

/** A running slapd. */
export interface TestSlapd {
  url: string;
  suffix: string;
  rootDn: string;
  password: string;
  stop(): Promise<void>;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** One mailbox entry of the test tree (inetOrgPerson under ou=gateways). */
export interface SlapdMailbox {
  uid: string;
  cn: string;
  organisation: string;
  city?: string;
  department?: string;
  mail: string;
  formats?: string[];
  certificates?: Uint8Array[];
}

/** The LDIF of the test tree. */
export function mailboxLdif(suffix: string, mailboxes: SlapdMailbox[]): string {
  const blocks = [
    `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: Test directory\ndc: test`,
    `dn: ou=gateways,${suffix}\nobjectClass: organizationalUnit\nou: gateways`,
  ];
  for (const m of mailboxes) {
    const lines = [
      `dn: cn=${m.cn},ou=gateways,${suffix}`,
      "objectClass: inetOrgPerson",
      `cn: ${m.cn}`,
      `sn: ${m.cn}`,
      `uid: ${m.uid}`,
      // Base64 form (RFC 2849) so names with diacritics survive.
      `o:: ${toBase64(new TextEncoder().encode(m.organisation))}`,
      `mail: ${m.mail}`,
    ];
    if (m.city) lines.push(`l: ${m.city}`);
    if (m.department) lines.push(`ou: ${m.department}`);
    for (const f of m.formats ?? []) lines.push(`businessCategory: ${f}`);
    for (const c of m.certificates ?? []) lines.push(`userCertificate;binary:: ${toBase64(c)}`);
    blocks.push(lines.join("\n"));
  }
  return blocks.join("\n\n") + "\n";
}

/**
 * Starts slapd on 127.0.0.1:`port` with `mailboxes` loaded. Waits until it answers.
 *
 * @example
 * ```ts
 * const slapd = await startTestSlapd({ port: 12310, mailboxes: [] });
 * await slapd.stop();
 * ```
 */
export async function startTestSlapd(
  options: { port: number; mailboxes: SlapdMailbox[] },
): Promise<TestSlapd> {
  const dir = await Deno.makeTempDir({ prefix: "beeldpoort-slapd-" });
  const suffix = "dc=test,dc=nl";
  const rootDn = `cn=admin,${suffix}`;
  const password = "test-secret";
  await Deno.mkdir(join(dir, "db"));
  const conf = join(dir, "slapd.conf");
  await Deno.writeTextFile(
    conf,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
database mdb
suffix "${suffix}"
rootdn "${rootDn}"
rootpw ${password}
directory ${dir}/db
maxsize 10485760
`,
  );
  await Deno.writeTextFile(join(dir, "tree.ldif"), mailboxLdif(suffix, options.mailboxes));
  const add = await new Deno.Command("slapadd", {
    args: ["-f", conf, "-l", join(dir, "tree.ldif")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!add.success) throw new Error(`slapadd failed: ${new TextDecoder().decode(add.stderr)}`);
  const url = `ldap://127.0.0.1:${options.port}`;
  // -d 0 keeps slapd in the foreground, so it is our child and dies with stop().
  const child = new Deno.Command("slapd", {
    args: ["-f", conf, "-h", url, "-d", "0"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: options.port });
      conn.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error("slapd did not start within 10 s");
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    suffix,
    rootDn,
    password,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.stderr.cancel();
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
