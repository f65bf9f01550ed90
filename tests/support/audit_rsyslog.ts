/**
 * A real syslog collector for the audit tests: Debian's rsyslogd with its own configuration,
 * receiving RFC 5425 syslog over TLS (imtcp with the gtls driver) on a loopback port and writing
 * each message to a file.
 */
import { join } from "node:path";
import { isListening, type PeerProcess, startPeer, waitFor } from "../../scripts/peers/process.ts";

/** rsyslogd is in /usr/sbin, which is not on every PATH. */
export const rsyslogd = "/usr/sbin/rsyslogd";

/** A running collector. */
export interface SyslogCollector {
  port: number;
  /** Everything received so far, one message per line as rsyslog wrote it. */
  received(): string;
  /** Starts again on the same port with the same configuration (after `stop`). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Writes a configuration into `dir` and starts rsyslogd on 127.0.0.1:`port` with TLS (server
 * certificate `certPath`/`keyPath`, anonymous clients). Messages go to `dir/received.log`.
 */
export async function startRsyslog(
  dir: string,
  port: number,
  tls: { certPath: string; keyPath: string; caPath: string },
): Promise<SyslogCollector> {
  const out = join(dir, "received.log");
  const config = join(dir, "rsyslog.conf");
  await Deno.writeTextFile(
    config,
    `global(
  workDirectory="${dir}"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="${tls.caPath}"
  defaultNetstreamDriverCertFile="${tls.certPath}"
  defaultNetstreamDriverKeyFile="${tls.keyPath}"
  maxMessageSize="64k"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="${port}")
template(name="wire" type="string" string="%pri% %timereported:::date-rfc3339% %app-name% %msgid% %msg%\\n")
action(type="omfile" file="${out}" template="wire")
`,
  );
  let peer: PeerProcess | null = null;
  const collector: SyslogCollector = {
    port,
    received: () => {
      try {
        return Deno.readTextFileSync(out);
      } catch {
        return "";
      }
    },
    async start() {
      peer = startPeer(rsyslogd, ["-n", "-f", config, "-i", join(dir, "rsyslogd.pid")]);
      await waitFor(`rsyslogd on ${port}: ${peer.output()}`, () => isListening(port), 10_000);
    },
    async stop() {
      await peer?.stop();
      peer = null;
    },
  };
  await collector.start();
  return collector;
}
