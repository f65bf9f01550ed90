/**
 * A TLS listener for the SCP, on node:tls because Deno.listenTls (2.9.6) cannot ask for or verify
 * client certificates. PS3.15 B.9 / BCP 195 (RFC 9325): TLS 1.2 or newer, the server certificate
 * from the site, and optionally a required client certificate from a configured CA so only known
 * modalities connect.
 */
import tls from "node:tls";
import type { Logger } from "../core/mod.ts";

/** Options of `listenDicomTls`. */
export interface DicomTlsOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate chain and private key of this SCP. */
  cert: string;
  key: string;
  /**
   * PEM CA certificate(s) that client certificates must chain to. When given, a client without a
   * valid certificate from one of them is refused during the handshake.
   */
  clientCaCerts?: string[];
  log: Logger;
}

/** The part of `Deno.Listener` the SCP uses. */
export interface DicomListener {
  readonly addr: Deno.NetAddr;
  accept(): Promise<Deno.Conn>;
  close(): void;
}

/** Adapts a node TLS socket to the `read`/`write`/`close`/`remoteAddr` the association uses. */
class TlsConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #waiter: (() => void) | null = null;

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    this.localAddr = {
      transport: "tcp",
      hostname: socket.localAddress ?? "",
      port: socket.localPort ?? 0,
    };
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
      // backpressure: stop reading from the network while 1 MiB waits for the association
      if (this.#buffered > 1 << 20) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error) => {
      this.#error = error;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify() {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  async read(into: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    const chunk = this.#chunks[0];
    const n = Math.min(chunk.byteLength, into.byteLength);
    into.set(chunk.subarray(0, n));
    if (n === chunk.byteLength) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#buffered -= n;
    if (this.#buffered <= 1 << 19 && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#socket.destroyed) return Promise.reject(new Error("connection closed"));
    const copy = bytes.slice(); // the caller may reuse its buffer once we resolve
    return new Promise((resolve, reject) => {
      this.#socket.write(copy, (error) => error ? reject(error) : resolve(copy.byteLength));
    });
  }

  setNoDelay(): void {}

  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }
}

/**
 * Listens for DICOM over TLS; pass the result as `listener` to `createDicomServer`.
 *
 * @example
 * ```ts
 * const listener = await listenDicomTls({ host: "0.0.0.0", port: 2762, cert, key, clientCaCerts: [ca], log });
 * const server = createDicomServer({ ...options, listener });
 * ```
 */
export async function listenDicomTls(options: DicomTlsOptions): Promise<DicomListener> {
  const requireClient = (options.clientCaCerts?.length ?? 0) > 0;
  const pending: Deno.Conn[] = [];
  const waiting: { resolve(c: Deno.Conn): void; reject(e: Error): void }[] = [];
  let closed = false;
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    minVersion: "TLSv1.2",
    ca: requireClient ? options.clientCaCerts : undefined,
    requestCert: requireClient,
    rejectUnauthorized: requireClient,
  }, (socket) => {
    const conn = new TlsConn(socket) as unknown as Deno.Conn;
    const taker = waiting.shift();
    if (taker) taker.resolve(conn);
    else pending.push(conn);
  });
  server.on("tlsClientError", (error, socket) => {
    options.log.warn("dicom TLS handshake refused", {
      remoteAddress: socket.remoteAddress,
      reasonText: error.message,
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    addr: { transport: "tcp", hostname: options.host, port },
    accept() {
      const conn = pending.shift();
      if (conn) return Promise.resolve(conn);
      if (closed) return Promise.reject(new Error("listener closed"));
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close() {
      closed = true;
      server.close();
      for (const w of waiting.splice(0)) w.reject(new Error("listener closed"));
    },
  };
}
