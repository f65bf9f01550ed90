/**
 * A throw-away Postfix (Debian package) on a loopback port, as a smarthost that relays one domain
 * to a fixed next hop over verified STARTTLS, or as that domain's own mail server that delivers
 * into a mailbox over LMTP (Dovecot). Its configuration, queue and log live in one
 * temporary directory; the system Postfix configuration is not touched. Needs root (Postfix
 * drops privileges to the `postfix` user itself).
 */
import { join } from "node:path";
import { waitFor } from "../../scripts/peers/process.ts";
import { isListening } from "../../scripts/peers/process.ts";

export interface PostfixOptions {
  readonly dir: string;
  /** Where Postfix's smtpd listens (127.0.0.1). */
  readonly port: number;
  /** The domain it relays, and where to: `[localhost]:relayPort`, TLS verified with `caPath`. */
  readonly relayDomain: string;
  readonly relayPort?: number;
  /** Instead of relaying: deliver the domain's mail over LMTP to 127.0.0.1:lmtpPort. */
  readonly lmtpPort?: number;
  readonly caPath: string;
  /** Its own server certificate for STARTTLS from our sender. */
  readonly certPath: string;
  readonly keyPath: string;
  readonly messageSizeLimit: number;
}

export interface Postfix {
  /** Postfix's own mail log (maillog_file). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Why Postfix cannot run here, or null when it can. */
export function postfixUnavailable(): string | null {
  if (Deno.uid?.() !== 0) return "postfix needs root to start (it switches to its own user)";
  try {
    Deno.statSync("/usr/sbin/postfix");
  } catch {
    return "postfix is not installed";
  }
  return null;
}

async function postfix(configDir: string, ...args: string[]) {
  const out = await new Deno.Command("/usr/sbin/postfix", {
    args: ["-c", configDir, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`postfix ${args.join(" ")} failed: ${text}`);
  return text;
}

/** Writes main.cf/master.cf into `dir` and starts Postfix; resolves once it listens. */
export async function startPostfix(options: PostfixOptions): Promise<Postfix> {
  const configDir = join(options.dir, "etc");
  const queueDir = join(options.dir, "queue");
  const dataDir = join(options.dir, "data");
  const logFile = join(options.dir, "maillog");
  await Deno.mkdir(configDir, { recursive: true });
  await Deno.mkdir(queueDir, { recursive: true });
  await Deno.mkdir(dataDir, { recursive: true });
  await new Deno.Command("chown", { args: ["postfix", dataDir] }).output();
  await Deno.writeTextFile(
    join(configDir, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${queueDir}`,
      `data_directory = ${dataDir}`,
      `maillog_file = ${logFile}`,
      `maillog_file_prefixes = ${options.dir}`,
      // The shared files list (postfix-files) stays where the package put it.
      "meta_directory = /etc/postfix",
      "mail_owner = postfix",
      "setgid_group = postdrop",
      "myhostname = relay.test.example",
      "mydestination =",
      "local_recipient_maps =",
      "alias_maps =",
      "alias_database =",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "mynetworks = 127.0.0.0/8",
      // Relay exactly as received: no header rewriting, no added headers for "local" clients.
      "local_header_rewrite_clients =",
      ...(options.lmtpPort
        ? [
          // The domain's own mail server: every address of it goes into the one mailbox.
          `virtual_mailbox_domains = ${options.relayDomain}`,
          "virtual_mailbox_maps = static:mailbox",
          `virtual_transport = lmtp:inet:127.0.0.1:${options.lmtpPort}`,
          "recipient_delimiter = +",
        ]
        : [
          `relay_domains = ${options.relayDomain}`,
          `relayhost = [localhost]:${options.relayPort}`,
        ]),
      "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
      "smtp_host_lookup = native",
      `message_size_limit = ${options.messageSizeLimit}`,
      // Onward: TLS required and the certificate verified against the test CA, as "localhost".
      "smtp_tls_security_level = secure",
      "smtp_tls_secure_cert_match = nexthop",
      `smtp_tls_CAfile = ${options.caPath}`,
      // Inward: STARTTLS offered with the test certificate.
      "smtpd_tls_security_level = may",
      `smtpd_tls_cert_file = ${options.certPath}`,
      `smtpd_tls_key_file = ${options.keyPath}`,
      "smtpd_banner = $myhostname ESMTP",
      "biff = no",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    join(configDir, "master.cf"),
    [
      `127.0.0.1:${options.port} inet n - n - - smtpd`,
      "pickup unix n - n 60 1 pickup",
      "cleanup unix n - n - 0 cleanup",
      "qmgr unix n - n 300 1 qmgr",
      "tlsmgr unix - - n 1000? 1 tlsmgr",
      "rewrite unix - - n - - trivial-rewrite",
      "bounce unix - - n - 0 bounce",
      "defer unix - - n - 0 bounce",
      "trace unix - - n - 0 bounce",
      "verify unix - - n - 1 verify",
      "flush unix n - n 1000? 0 flush",
      "proxymap unix - - n - - proxymap",
      "smtp unix - - n - - smtp",
      "relay unix - - n - - smtp",
      "lmtp unix - - n - - lmtp",
      "showq unix n - n - - showq",
      "error unix - - n - - error",
      "retry unix - - n - - error",
      "discard unix - - n - - discard",
      "anvil unix - - n - 1 anvil",
      "scache unix - - n - 1 scache",
      "postlog unix-dgram n - n - 1 postlogd",
      "",
    ].join("\n"),
  );
  await postfix(configDir, "check");
  await postfix(configDir, "start");
  await waitFor("postfix smtpd", () => isListening(options.port), 20_000);
  return {
    log: () => Deno.readTextFile(logFile).catch(() => ""),
    async stop() {
      await postfix(configDir, "stop").catch(() => {});
      // master waits for its children; wait until the port is free again.
      await waitFor("postfix to stop", async () => !(await isListening(options.port)), 20_000)
        .catch(() => {});
    },
  };
}
