import dgram from "node:dgram";
import { isIP } from "node:net";
import tls from "node:tls";
import { AuditConfigInvalid, SyslogUnavailable } from "./errors.ts";

/** Where audit messages go: an ATNA Audit Record Repository or any RFC 5424 collector. */
export interface SyslogOptions {
  /** "tls": RFC 5425 over TCP (the ATNA default, port 6514); "udp": RFC 5426. */
  transport: "tls" | "udp";
  host: string;
  port: number;
  /** PEM certificate(s) the collector's certificate must chain to (TLS; required). */
  caCerts?: string[];
  /** Our client certificate and key when the collector asks for one (ATNA mutual TLS). */
  clientCert?: string;
  clientKey?: string;
  /** The name on the collector's certificate, when it is not `host`. */
  serverName?: string;
  /** HOSTNAME field of the message; default "beeldpoort". */
  hostname?: string;
  /** APP-NAME field; default "beeldpoort". */
  appName?: string;
  connectTimeoutMs?: number;
}

const encoder = new TextEncoder();

/** A value of an RFC 5424 header field: printable US-ASCII without spaces, or "-". */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, "").slice(0, max);
  return clean || "-";
}

/**
 * One RFC 5424 message carrying an audit message: PRI 85 (facility 10 security/authorization,
 * severity 5 notice, as IHE ITI-20 uses), version 1, the event time, MSGID "IHE+RFC-3881", no
 * structured data, and the XML as a UTF-8 MSG with its BOM (RFC 5424 6.4).
 *
 * @example
 * ```ts
 * const bytes = syslogMessage(xml, new Date(), { hostname: "bp1" });
 * ```
 */
export function syslogMessage(
  body: string,
  at: Date,
  options: { hostname?: string; appName?: string } = {},
): Uint8Array {
  const header = [
    "<85>1",
    at.toISOString(),
    headerField(options.hostname ?? "beeldpoort", 255),
    headerField(options.appName ?? "beeldpoort", 48),
    headerField(String(Deno.pid), 128),
    "IHE+RFC-3881",
    "-",
  ].join(" ");
  return encoder.encode(`${header} \ufeff${body}`);
}

/** Sends messages to the collector; keeps one TLS connection open and reopens it when it breaks. */
export interface SyslogSender {
  /** Resolves once the message is handed to the network; throws `SyslogUnavailable`. */
  send(message: Uint8Array): Promise<void>;
  close(): void;
}

/**
 * A sender for `options.transport`. TLS uses octet-counting framing (RFC 5425 4.3:
 * `MSG-LEN SP SYSLOG-MSG`), TLS 1.2 or newer, and verifies the collector against `caCerts`.
 *
 * @example
 * ```ts
 * const sender = createSyslogSender({ transport: "tls", host: "arr.example", port: 6514, caCerts });
 * await sender.send(syslogMessage(xml, new Date()));
 * ```
 */
export function createSyslogSender(options: SyslogOptions): SyslogSender {
  if (options.transport === "udp") return udpSender(options);
  if (!options.caCerts?.length) {
    throw new AuditConfigInvalid("syslog over TLS needs the collector's CA certificate");
  }
  let socket: tls.TLSSocket | null = null;
  let connecting: Promise<tls.TLSSocket> | null = null;

  const connect = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: options.host,
        port: options.port,
        ca: options.caCerts,
        cert: options.clientCert,
        key: options.clientKey,
        servername: options.serverName ?? (isIP(options.host) ? undefined : options.host),
        minVersion: "TLSv1.2",
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new SyslogUnavailable(`syslog ${options.host}:${options.port}: connect timed out`));
      }, options.connectTimeoutMs ?? 5000);
      s.once("secureConnect", () => {
        clearTimeout(timer);
        s.on("error", () => s.destroy());
        s.on("close", () => {
          if (socket === s) socket = null;
        });
        resolve(s);
      });
      s.once("error", (error) => {
        clearTimeout(timer);
        s.destroy();
        reject(
          new SyslogUnavailable(`syslog ${options.host}:${options.port}: ${error.message}`, {
            cause: error,
          }),
        );
      });
    });

  return {
    async send(message) {
      if (!socket || socket.destroyed) {
        connecting ??= connect().finally(() => (connecting = null));
        socket = await connecting;
      }
      const s = socket;
      const frame = new Uint8Array([...encoder.encode(`${message.byteLength} `)]);
      await new Promise<void>((resolve, reject) => {
        s.write(frame);
        s.write(message, (error) => {
          if (error) {
            s.destroy();
            reject(new SyslogUnavailable(`syslog write failed: ${error.message}`));
          } else resolve();
        });
      });
    },
    close() {
      socket?.end();
      socket = null;
    },
  };
}

function udpSender(options: SyslogOptions): SyslogSender {
  const socket = dgram.createSocket(isIP(options.host) === 6 ? "udp6" : "udp4");
  socket.unref();
  return {
    send: (message) =>
      new Promise((resolve, reject) =>
        socket.send(message, options.port, options.host, (error) => {
          if (error) reject(new SyslogUnavailable(`syslog udp: ${error.message}`));
          else resolve();
        })
      ),
    close: () => socket.close(),
  };
}
