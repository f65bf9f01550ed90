/**
 * The Debian packages the tests talk to, and the command that shows each is installed.
 * The test command installs missing ones with apt-get when it runs as root.
 */
export const systemPackages: { pkg: string; command: string; file?: string }[] = [
  { pkg: "dcmtk", command: "storescu" },
  { pkg: "orthanc", command: "Orthanc" },
  { pkg: "dicom3tools", command: "dciodvfy" },
  { pkg: "libxml2-utils", command: "xmllint" },
  { pkg: "openssl", command: "openssl" },
  { pkg: "chromium", command: "chromium" },
  { pkg: "slapd", command: "slapd" },
  { pkg: "ldap-utils", command: "ldapsearch" },
  { pkg: "rsyslog", command: "rsyslogd" },
  // no command of its own: the TLS driver module shows it is installed
  { pkg: "rsyslog-gnutls", command: "rsyslogd", file: rsyslogTlsDriver() },
  { pkg: "postfix", command: "postfix" },
  { pkg: "unzip", command: "unzip" },
  { pkg: "dovecot-imapd", command: "dovecot", file: "/usr/lib/dovecot/imap" },
  { pkg: "dovecot-lmtpd", command: "dovecot", file: "/usr/lib/dovecot/lmtp" },
];

/** Where Debian's rsyslog-gnutls puts the gtls network stream driver. */
export function rsyslogTlsDriver(): string {
  return `/usr/lib/${Deno.build.arch}-linux-gnu/rsyslog/lmnsd_gtls.so`;
}

function isInstalled(p: { command: string; file?: string }): boolean {
  if (!p.file) return hasCommand(p.command);
  try {
    return Deno.statSync(p.file).isFile;
  } catch {
    return false;
  }
}

/** Whether `command` is on the PATH (or in /usr/sbin, where Debian puts Orthanc). */
export function hasCommand(command: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  return dirs.some((dir) => {
    try {
      return Deno.statSync(`${dir}/${command}`).isFile;
    } catch {
      return false;
    }
  });
}

/** Installs what is missing; returns the packages still missing afterwards. */
export async function ensureSystemPackages(log: (line: string) => void): Promise<string[]> {
  const missing = systemPackages.filter((p) => !isInstalled(p)).map((p) => p.pkg);
  if (missing.length === 0) return [];
  const isRoot = Deno.uid?.() === 0;
  const hasApt = hasCommand("apt-get");
  if (!isRoot || !hasApt) {
    log(
      `missing system packages (not root or no apt-get, tests that need them skip): ${
        missing.join(" ")
      }`,
    );
    return missing;
  }
  log(`installing system packages: ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const run = async (args: string[]) => {
    const out = await new Deno.Command("apt-get", { args, env, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) {
      log(`apt-get ${args[0]} failed: ${new TextDecoder().decode(out.stderr).slice(-500)}`);
    }
  };
  await run(["update", "-qq"]);
  await run(["install", "-y", "-qq", "--no-install-recommends", ...missing]);
  return systemPackages.filter((p) => !isInstalled(p)).map((p) => p.pkg);
}
