/**
 * Splits an RFC 5233 subaddress: `gw+radiologie@zkh-b.example` is the mailbox
 * `gw@zkh-b.example` with the detail `radiologie`. Gateways address a department this way; the
 * mailbox (lower-cased) is what accepting and matching compare.
 *
 * @example
 * ```ts
 * subaddress("GW+Radiologie@zkh-b.example"); // { mailbox: "gw@zkh-b.example", detail: "radiologie" }
 * subaddress("gw@zkh-b.example"); // { mailbox: "gw@zkh-b.example", detail: null }
 * ```
 */
export function subaddress(address: string): { mailbox: string; detail: string | null } {
  const lower = address.trim().toLowerCase();
  const m = /^([^@+]+)\+([^@]*)@(.+)$/.exec(lower);
  return m
    ? { mailbox: `${m[1]}@${m[3]}`, detail: m[2] || null }
    : { mailbox: lower, detail: null };
}
