/**
 * Where a message for a domain goes: a smarthost, a fixed route, or the domain's MX hosts in order
 * of preference (RFC 5321 §5.1), with the domain itself as implicit MX when it has none.
 */
import { resolveMx } from "node:dns/promises";
import { MailPermanentError, MailTemporaryError } from "./errors.ts";

/** One host to try, with the name its certificate must carry. */
export interface MailRoute {
  readonly host: string;
  readonly port: number;
  /** The name checked against the server certificate (and sent as SNI). */
  readonly servername: string;
}

/** A fixed next hop: a smarthost or a static route. */
export interface MailHop {
  readonly host: string;
  /** Defaults to the sender's `port`. */
  readonly port?: number;
  /** Defaults to `host`; set it when `host` is an IP address but the certificate names a host. */
  readonly servername?: string;
}

/** How the sender finds the next hop. */
export interface RouteOptions {
  readonly smarthost?: MailHop;
  readonly routes?: Readonly<Record<string, MailHop>>;
  readonly port: number;
  /** Replaces node:dns resolveMx (tests). */
  readonly resolveMx?: (domain: string) => Promise<{ exchange: string; priority: number }[]>;
}

function hop(h: MailHop, port: number): MailRoute {
  return { host: h.host, port: h.port ?? port, servername: h.servername ?? h.host };
}

/** The hosts to try for `domain`, best first. */
export async function routesFor(domain: string, options: RouteOptions): Promise<MailRoute[]> {
  if (options.smarthost) return [hop(options.smarthost, options.port)];
  const fixed = options.routes?.[domain.toLowerCase()];
  if (fixed) return [hop(fixed, options.port)];
  let records: { exchange: string; priority: number }[];
  try {
    records = await (options.resolveMx ?? resolveMx)(domain);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // No MX records but the name exists: the domain itself is the implicit MX (RFC 5321 §5.1).
    if (code === "ENODATA") return [{ host: domain, port: options.port, servername: domain }];
    if (code === "ENOTFOUND") {
      throw new MailPermanentError(`domain ${domain} does not exist`, {}, { cause: e });
    }
    throw new MailTemporaryError(`MX lookup for ${domain} failed (${code})`, {}, { cause: e });
  }
  // RFC 7505 §3: a single MX of "." (priority 0) says the domain accepts no mail.
  if (records.length === 1 && (records[0].exchange === "" || records[0].exchange === ".")) {
    throw new MailPermanentError(`domain ${domain} accepts no mail (null MX, RFC 7505)`);
  }
  if (records.length === 0) return [{ host: domain, port: options.port, servername: domain }];
  return [...records]
    .sort((a, b) => a.priority - b.priority)
    .map((r) => {
      const host = r.exchange.replace(/\.$/, "");
      return { host, port: options.port, servername: host };
    });
}
