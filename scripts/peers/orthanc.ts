/**
 * Orthanc (Debian package) as a test and benchmark peer: its own configuration, storage and
 * loopback ports, no plugins. Nagle is turned off with TCP_NODELAY=1 (Debian's dcmtk leaves it on).
 */
import { isListening, type PeerProcess, startPeer, waitFor } from "./process.ts";

export interface OrthancPeer {
  process: PeerProcess;
  httpUrl: string;
  dicomPort: number;
  aeTitle: string;
  /** Calls Orthanc's REST API and returns the parsed JSON answer. */
  rest(path: string, init?: RequestInit): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts Orthanc on the given ports with storage in `dir`. `modalities` are the DICOM peers it
 * may send to (name -> [AE, host, port]).
 */
export async function startOrthanc(options: {
  dir: string;
  httpPort: number;
  dicomPort: number;
  aeTitle?: string;
  modalities?: Record<string, [string, string, number]>;
}): Promise<OrthancPeer> {
  const aeTitle = options.aeTitle ?? "ORTHANC";
  const config = {
    Name: "beeldpoort-peer",
    StorageDirectory: `${options.dir}/storage`,
    IndexDirectory: `${options.dir}/index`,
    Plugins: [],
    HttpPort: options.httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomAet: aeTitle,
    DicomPort: options.dicomPort,
    DicomCheckCalledAet: false,
    DicomAlwaysAllowStore: true,
    DicomModalities: options.modalities ?? {},
    StableAge: 2,
    HttpCompressionEnabled: false,
  };
  Deno.mkdirSync(options.dir, { recursive: true });
  const configPath = `${options.dir}/orthanc.json`;
  Deno.writeTextFileSync(configPath, JSON.stringify(config, null, 2));
  const process = startPeer("Orthanc", [configPath], { env: { TCP_NODELAY: "1" } });
  const httpUrl = `http://127.0.0.1:${options.httpPort}`;
  try {
    await waitFor(
      "Orthanc to listen",
      async () => (await isListening(options.httpPort)) && (await isListening(options.dicomPort)),
    );
  } catch (error) {
    await process.stop("SIGKILL");
    throw new Error(`${(error as Error).message}\n${process.output().slice(-2000)}`);
  }
  return {
    process,
    httpUrl,
    dicomPort: options.dicomPort,
    aeTitle,
    async rest(path, init) {
      const response = await fetch(httpUrl + path, init);
      const text = await response.text();
      if (!response.ok) throw new Error(`Orthanc ${path}: HTTP ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async stop() {
      await process.stop("SIGTERM");
    },
  };
}
