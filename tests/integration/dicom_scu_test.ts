/** Our SCU against dcmtk storescp and against our own SCP: echo, rejection, byte-identical stores. */
import assert from "node:assert/strict";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import { newUid, writeSyntheticCt, writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { datasetBytes, dcmtk, startTestScp } from "../support/dicom_harness.ts";
import {
  AssociationRejected,
  cEcho,
  cStore,
  cStoreObjects,
  readPart10Header,
} from "../../modules/dicom/mod.ts";

const ignore = missing("storescp", "dcmcrle", "dcmcjpeg", "dcmconv");

/** dcmtk storescp as "PACS" on `port`, writing into `out`; answers C-ECHO before this returns. */
async function startStorescp(out: string, port: number, extra: string[] = []) {
  const child = new Deno.Command("storescp", {
    args: ["-aet", "PACS", "+B", ...extra, "-od", out, "-fe", ".dcm", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const options = { host: "127.0.0.1", port, callingAe: "BEELDPOORT", calledAe: "PACS" };
  for (let i = 0; i < 50 && await cEcho(options).catch(() => -1) !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    options,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function mixedFiles(dir: string): Promise<string[]> {
  const studyUid = newUid();
  const make = (name: string, ts: "explicit" | "implicit" = "explicit") => {
    const path = `${dir}/${name}.dcm`;
    writeSyntheticCt(path, {
      studyUid,
      seriesUid: studyUid + ".2",
      sopUid: newUid(),
      rows: 128,
      cols: 128,
      transferSyntax: ts,
    });
    return path;
  };
  const files = [make("explicit"), make("implicit", "implicit")];
  for (
    const [name, tool, args] of [["rle", "dcmcrle", []], ["jpeg", "dcmcjpeg", []], [
      "deflated",
      "dcmconv",
      ["+td"],
    ]] as const
  ) {
    const source = make(`${name}-source`);
    const out = `${dir}/${name}.dcm`;
    const r = await dcmtk(tool, [...args, source, out]);
    assert.equal(r.code, 0, r.output);
    Deno.removeSync(source);
    files.push(out);
  }
  return files;
}

Deno.test({
  name:
    "SCU: C-ECHO and C-STORE to dcmtk storescp keep every dataset byte in its own transfer syntax",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/in`);
    Deno.mkdirSync(`${dir.path}/out`);
    const files = await mixedFiles(`${dir.path}/in`);
    const storescp = new Deno.Command("storescp", {
      args: ["-aet", "PACS", "+xa", "+B", "-od", `${dir.path}/out`, "-fe", ".dcm", "12120"],
      env: { TCP_NODELAY: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const options = { host: "127.0.0.1", port: 12120, callingAe: "BEELDPOORT", calledAe: "PACS" };
      let status = -1;
      for (let i = 0; i < 50 && status !== 0; i++) {
        status = await cEcho(options).catch(() => -1);
        if (status !== 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 0);
      const results = await cStore({ ...options, files });
      assert.deepEqual(results.map((r) => r.status), files.map(() => 0));
      const received = new Map<string, string>();
      for (const entry of Deno.readDirSync(`${dir.path}/out`)) {
        const path = `${dir.path}/out/${entry.name}`;
        received.set(readPart10Header(Deno.readFileSync(path)).sopInstanceUid, path);
      }
      for (const file of files) {
        const sent = readPart10Header(Deno.readFileSync(file));
        const got = received.get(sent.sopInstanceUid)!;
        assert.equal(
          readPart10Header(Deno.readFileSync(got)).transferSyntaxUid,
          sent.transferSyntaxUid,
          file,
        );
        const expected = datasetBytes(file);
        // An odd deflated stream goes out padded with one NUL (PDVs are even, PS3.8 9.3.5.1).
        const want = expected.length % 2 === 1 ? Uint8Array.of(...expected, 0) : expected;
        assert.deepEqual(datasetBytes(got), want, file);
      }
    } finally {
      storescp.kill("SIGTERM");
      await storescp.status;
    }
  },
});

Deno.test({
  name: "SCU: our SCP's rejection surfaces as AssociationRejected with the reason in words",
  ignore,
  fn: async () => {
    using dir = tempDir();
    const scp = startTestScp(12121, dir.path, { allowedSenders: ["CT1"] });
    try {
      await assert.rejects(
        cEcho({ host: "127.0.0.1", port: 12121, callingAe: "CT1", calledAe: "NOTUS" }),
        (e: AssociationRejected) =>
          e instanceof AssociationRejected && e.reasonText === "called AE title not recognized" &&
          e.result === 1,
      );
      await assert.rejects(
        cEcho({ host: "127.0.0.1", port: 12121, callingAe: "CT2", calledAe: "BEELDPOORT" }),
        /calling AE title not recognized/,
      );
      assert.equal(
        await cEcho({ host: "127.0.0.1", port: 12121, callingAe: "CT1", calledAe: "BEELDPOORT" }),
        0,
      );
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name: "SCU to our SCP: mixed syntaxes in one association arrive byte-identical",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/in`);
    Deno.mkdirSync(`${dir.path}/out`);
    const files = await mixedFiles(`${dir.path}/in`);
    const scp = startTestScp(12122, `${dir.path}/out`);
    try {
      const results = await cStore({
        host: "127.0.0.1",
        port: 12122,
        callingAe: "SCU",
        calledAe: "BEELDPOORT",
        files,
      });
      assert.deepEqual(results.map((r) => r.status), files.map(() => 0));
      for (const file of files) {
        const sent = readPart10Header(Deno.readFileSync(file));
        const expected = datasetBytes(file);
        const want = expected.length % 2 === 1 ? Uint8Array.of(...expected, 0) : expected;
        assert.deepEqual(datasetBytes(`${dir.path}/out/${sent.sopInstanceUid}.dcm`), want, file);
      }
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name:
    "SCU: handed-over chunks are freed once sent to storescp (16 KiB PDUs), kept otherwise, and the bytes arrive unchanged",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/out`);
    const { files } = writeSyntheticStudy(`${dir.path}/in`, { instances: 2, rows: 256, cols: 256 });
    await using scp = await startStorescp(`${dir.path}/out`, 12123, ["--max-pdu", "16384"]);
    const options = scp.options;
    const handed: Uint8Array[] = [];
    const kept: Uint8Array[] = [];
    // Chunks of 40,000 bytes: PDUs that straddle chunk boundaries, and a short last chunk.
    const chunked = (file: string, into: Uint8Array[]) => () => {
      const bytes = Deno.readFileSync(file);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += 40_000) {
        chunks.push(bytes.slice(at, at + 40_000));
      }
      into.push(...chunks);
      return Promise.resolve(ReadableStream.from(chunks));
    };
    const objects = files.map((file, i) => {
      const head = readPart10Header(Deno.readFileSync(file));
      return {
        sopClassUid: head.sopClassUid,
        sopInstanceUid: head.sopInstanceUid,
        transferSyntaxUid: head.transferSyntaxUid,
        open: chunked(file, i === 0 ? handed : kept),
        handOver: i === 0,
      };
    });
    const results = await cStoreObjects({ ...options, objects });
    assert.deepEqual(results.map((r) => r.status), [0, 0]);
    assert.ok(handed.length > 3 && kept.length > 3);
    assert.deepEqual(handed.map((c) => c.byteLength), handed.map(() => 0), "handed over: freed");
    assert.ok(kept.every((c) => c.byteLength > 0), "not handed over: untouched");
    for (const file of files) {
      const uid = readPart10Header(Deno.readFileSync(file)).sopInstanceUid;
      const got = [...Deno.readDirSync(`${dir.path}/out`)]
        .map((e) => `${dir.path}/out/${e.name}`)
        .find((p) => readPart10Header(Deno.readFileSync(p)).sopInstanceUid === uid);
      assert.ok(got, `storescp holds ${uid}`);
      assert.deepEqual(datasetBytes(got), datasetBytes(file));
    }
  },
});

Deno.test({
  name:
    "SCU: the next object is opened while the previous one is in the PACS, and one opened ahead of an abort is closed",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/out`);
    const { files } = writeSyntheticStudy(`${dir.path}/in`, { instances: 3, rows: 64, cols: 64 });
    await using scp = await startStorescp(`${dir.path}/out`, 12124);
    const options = scp.options;
    const events: string[] = [];
    const objectsOf = () =>
      files.map((file, i) => {
        const head = readPart10Header(Deno.readFileSync(file));
        return {
          sopClassUid: head.sopClassUid,
          sopInstanceUid: head.sopInstanceUid,
          transferSyntaxUid: head.transferSyntaxUid,
          open: () => {
            events.push(`open ${i}`);
            const bytes = Deno.readFileSync(file);
            return Promise.resolve(
              new ReadableStream<Uint8Array>({
                start(controller) {
                  controller.enqueue(bytes);
                  controller.close();
                },
                cancel: () => void events.push(`closed ${i}`),
              }),
            );
          },
        };
      });
    const names = new Map(objectsOf().map((o, i) => [o.sopInstanceUid, i]));
    const results = await cStoreObjects({
      ...options,
      objects: objectsOf(),
      onResult: (r) => void events.push(`stored ${names.get(r.sopInstanceUid)}`),
    });
    assert.deepEqual(results.map((r) => r.status), [0, 0, 0]);
    const opened = events.filter((e) => !e.startsWith("closed"));
    assert.deepEqual(opened, ["open 0", "open 1", "stored 0", "open 2", "stored 1", "stored 2"]);

    // Aborted once the first is stored: the second, opened ahead, is closed and never sent.
    events.length = 0;
    const abort = new AbortController();
    await assert.rejects(
      cStoreObjects({
        ...options,
        objects: objectsOf(),
        signal: abort.signal,
        onResult: (r) => {
          events.push(`stored ${names.get(r.sopInstanceUid)}`);
          abort.abort(new Error("operator stop"));
        },
      }),
    );
    assert.deepEqual(events.filter((e) => e !== "closed 0"), [
      "open 0",
      "open 1",
      "stored 0",
      "closed 1",
    ]);
  },
});
