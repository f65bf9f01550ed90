/**
 * Opening a listener whose port another process holds (a second Beeldpoort, or another service on
 * 8443, 11112 or 25): the runtime's "Address already in use (os error 98)" names no port and came
 * out as a stack trace. This names the configuration key, the address and what to do.
 */
import { BeeldpoortError } from "../modules/core/mod.ts";

export class PortInUse extends BeeldpoortError {
  readonly code = "port-in-use";
}

/** Runs `open`; a port already in use becomes a PortInUse naming `key` and the address. */
export async function listenOn<T>(
  key: string,
  host: string,
  port: number,
  open: () => T | Promise<T>,
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof Deno.errors.AddrInUse) && code !== "EADDRINUSE") throw error;
    throw new PortInUse(
      `${key} ${host}:${port} is in use by another process (is Beeldpoort already running?); ` +
        "'beeldpoort doctor' checks every port",
      { cause: error },
    );
  }
}
