/**
 * A throw-away Dovecot (Debian package dovecot-imapd) on loopback ports: IMAP with STARTTLS and
 * IMAPS, optionally LMTP for a Postfix to deliver into, one mailbox user, Maildir storage. Its
 * configuration, state, mail and log live in one temporary directory; the system Dovecot is not
 * touched. Needs root (Dovecot switches to its own users).
 */
import { ImapFlow } from "imapflow";
import { join } from "node:path";
import { isListening, waitFor } from "../../scripts/peers/process.ts";
import { freePort } from "./appliance.ts";

export interface DovecotOptions {
  readonly dir: string;
  /** The mailbox's login, e.g. gateway@zkh-b.example, and its password. */
  readonly user: string;
  readonly password: string;
  /** PEM certificate and key files for 127.0.0.1/localhost. */
  readonly certPath: string;
  readonly keyPath: string;
  /** Also listen for LMTP (Postfix's delivery into the mailbox). */
  readonly lmtp?: boolean;
}

export interface Dovecot {
  /** IMAP with STARTTLS. */
  readonly imapPort: number;
  /** IMAP over TLS from the first byte. */
  readonly imapsPort: number;
  /** LMTP, when asked for (else 0). */
  readonly lmtpPort: number;
  /** A client logged in as the mailbox user (what a mail server's delivery or an admin does). */
  client(caPem: string): Promise<ImapFlow>;
  /** Messages in INBOX not marked deleted. */
  count(caPem: string): Promise<number>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Why Dovecot cannot run here, or null when it can. */
export function dovecotUnavailable(): string | null {
  if (Deno.uid?.() !== 0) return "dovecot needs root to start (it switches to its own users)";
  try {
    Deno.statSync("/usr/sbin/dovecot");
  } catch {
    return "dovecot is not installed (Debian package dovecot-imapd)";
  }
  return null;
}

/** Writes dovecot.conf into `dir` and starts Dovecot; resolves once it listens. */
export async function startDovecot(options: DovecotOptions): Promise<Dovecot> {
  const dir = options.dir;
  for (const sub of ["run", "state", "mail"]) await Deno.mkdir(join(dir, sub), { recursive: true });
  // The mail processes run as the dovecot user: the mail directory is theirs.
  await new Deno.Command("chown", { args: ["dovecot:dovecot", join(dir, "mail")] }).output();
  await Deno.writeTextFile(
    join(dir, "users"),
    `${options.user}:{PLAIN}${options.password}::::::\n`,
  );
  const imapPort = freePort();
  const imapsPort = freePort();
  const lmtpPort = options.lmtp ? freePort() : 0;
  const configPath = join(dir, "dovecot.conf");
  await Deno.writeTextFile(
    configPath,
    [
      `base_dir = ${join(dir, "run")}`,
      `state_dir = ${join(dir, "state")}`,
      `instance_name = bp-test-${imapPort}`,
      `protocols = imap${options.lmtp ? " lmtp" : ""}`,
      "listen = 127.0.0.1",
      `log_path = ${join(dir, "dovecot.log")}`,
      "ssl = required",
      `ssl_cert = <${options.certPath}`,
      `ssl_key = <${options.keyPath}`,
      "ssl_min_protocol = TLSv1.2",
      "default_internal_user = dovecot",
      "default_internal_group = dovecot",
      "default_login_user = dovenull",
      "first_valid_uid = 1",
      "first_valid_gid = 1",
      "auth_mechanisms = plain",
      `passdb {\n  driver = passwd-file\n  args = ${join(dir, "users")}\n}`,
      `userdb {\n  driver = static\n  args = uid=dovecot gid=dovecot home=${
        join(dir, "mail")
      }/%u\n}`,
      "mail_location = maildir:~/Maildir",
      "service imap-login {",
      `  inet_listener imap {\n    address = 127.0.0.1\n    port = ${imapPort}\n  }`,
      `  inet_listener imaps {\n    address = 127.0.0.1\n    port = ${imapsPort}\n    ssl = yes\n  }`,
      "  chroot =",
      "}",
      "service anvil {\n  chroot =\n}",
      ...(options.lmtp
        ? [
          `service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${lmtpPort}\n  }\n}`,
          // Postfix speaks for the whole domain: the login is the full address.
          "lmtp_save_to_detail_mailbox = no",
          // A department's subaddress (gw+radiologie@) is the same mailbox (RFC 5233).
          "recipient_delimiter = +",
          "protocol lmtp {\n  postmaster_address = postmaster@localhost\n}",
        ]
        : []),
      "",
    ].join("\n"),
  );
  // The daemon keeps inherited descriptors open: no pipes, the reason is in its log.
  const run = async (command: string, args: string[]) => {
    const out = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    if (!out.success) {
      const log = await Deno.readTextFile(join(dir, "dovecot.log")).catch(() => "");
      throw new Error(`${command} ${args.join(" ")} failed (${out.code}): ${log.slice(-800)}`);
    }
  };
  await run("/usr/sbin/dovecot", ["-c", configPath]);
  await waitFor("dovecot imap", () => isListening(imapsPort), 20_000);
  if (lmtpPort) await waitFor("dovecot lmtp", () => isListening(lmtpPort), 20_000);
  const client = async (caPem: string) => {
    const c = new ImapFlow({
      host: "127.0.0.1",
      port: imapsPort,
      secure: true,
      tls: { ca: [caPem] },
      auth: { user: options.user, pass: options.password },
      logger: false,
    });
    c.on("error", () => {});
    await c.connect();
    return c;
  };
  return {
    imapPort,
    imapsPort,
    lmtpPort,
    client,
    async count(caPem) {
      const c = await client(caPem);
      try {
        const lock = await c.getMailboxLock("INBOX");
        try {
          return ((await c.search({ deleted: false }, { uid: true })) || []).length;
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
    },
    log: () => Deno.readTextFile(join(dir, "dovecot.log")).catch(() => ""),
    async stop() {
      await run("/usr/bin/doveadm", ["-c", configPath, "stop"]).catch(() => {});
      await waitFor("dovecot to stop", async () => !(await isListening(imapsPort)), 20_000)
        .catch(() => {});
    },
  };
}
