/**
 * Broken, hostile and impatient peers: each gets an A-ABORT or a closed socket, nothing partial is
 * stored, and the server keeps serving the next association (checked with dcmtk echoscu).
 */
import assert from "node:assert/strict";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import { newUid, syntheticCt } from "../support/dicom_fixtures.ts";
import {
  dcmtk,
  logLines,
  rawPeer,
  type ScpRecord,
  startTestScp,
} from "../support/dicom_harness.ts";
import {
  AssociationAborted,
  cStore,
  readPart10Header,
  type StoreRequest,
} from "../../modules/dicom/mod.ts";
import { createSpool } from "../../modules/spool/mod.ts";
import {
  encodeAbort,
  encodeAssociateRq,
  encodePData,
  encodeReleaseRq,
  newAssociateRq,
} from "../../modules/dicom/pdu.ts";
import { decodeCommand, encodeCommand } from "../../modules/dicom/dimse.ts";

const ignore = missing("echoscu");
const ct = "1.2.840.10008.5.1.4.1.1.2";
const ele = "1.2.840.10008.1.2.1";

function associateRq(maxPduLength = 65536) {
  return encodeAssociateRq(newAssociateRq({
    calledAe: "BEELDPOORT",
    callingAe: "RAWPEER",
    contexts: [
      { id: 1, abstractSyntax: "1.2.840.10008.1.1", transferSyntaxes: ["1.2.840.10008.1.2"] },
      { id: 3, abstractSyntax: ct, transferSyntaxes: [ele] },
    ],
    userInfo: { maxPduLength, implementationClassUid: "2.25.1", roles: [] },
  }));
}

async function associated(port: number) {
  const peer = await rawPeer(port);
  await peer.send(associateRq());
  const answer = await peer.read();
  assert.equal(answer?.[0], 0x02, "expected A-ASSOCIATE-AC");
  return peer;
}

async function assertStillServing(port: number) {
  const echo = await dcmtk("echoscu", [
    "-aet",
    "CHECK",
    "-aec",
    "BEELDPOORT",
    "127.0.0.1",
    String(port),
  ]);
  assert.equal(echo.code, 0, echo.output);
}

async function expectAbortThenClose(peer: Awaited<ReturnType<typeof rawPeer>>, reason: number) {
  const pdu = await peer.read();
  assert.deepEqual(pdu, [0x07, Uint8Array.of(0, 0, 2, reason)]);
  assert.equal(await peer.read(), null, "socket closed after A-ABORT");
  peer.close();
}

function storeCommand(sopUid: string) {
  return encodeCommand({
    commandField: 0x0001,
    messageId: 7,
    priority: 0,
    affectedSopClassUid: ct,
    affectedSopInstanceUid: sopUid,
    commandDataSetType: 0,
  });
}

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withScp(
  port: number,
  fn: (scp: ScpRecord, dir: string) => Promise<void>,
  overrides = {},
) {
  using dir = tempDir();
  const scp = startTestScp(port, dir.path, overrides);
  try {
    await fn(scp, dir.path);
  } finally {
    await scp.server.close();
  }
}

Deno.test({
  name: "too many associations: the next one is rejected transient, local limit exceeded",
  ignore,
  fn: () =>
    withScp(12110, async (scp) => {
      const holder = await associated(12110);
      const echo = await dcmtk("echoscu", [
        "-aet",
        "CT9",
        "-aec",
        "BEELDPOORT",
        "127.0.0.1",
        "12110",
      ]);
      assert.notEqual(echo.code, 0);
      assert.match(
        echo.output,
        /Rejected Transient, Source: Service Provider \(Presentation Related\)\nF: Reason: Local Limit Exceeded/,
      );
      const rejected = logLines(scp.logs, "association rejected");
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0].reasonText, "local limit exceeded");
      assert.equal(rejected[0].result, "transient");
      await holder.send(encodeReleaseRq());
      assert.equal((await holder.read())?.[0], 0x06, "A-RELEASE-RP");
      holder.close();
      await until(() => logLines(scp.logs, "association released").length === 1);
      await assertStillServing(12110);
    }, { maxAssociations: 1 }),
});

Deno.test({
  name: "a truncated PDU and garbage bytes close the connection; the server keeps serving",
  ignore,
  fn: () =>
    withScp(12111, async (scp) => {
      const truncated = await rawPeer(12111);
      await truncated.send(associateRq().subarray(0, 40));
      truncated.conn.closeWrite();
      assert.deepEqual(await truncated.read(), [0x07, Uint8Array.of(0, 0, 2, 0)]);
      truncated.close();

      const garbage = await rawPeer(12111);
      const noise = new Uint8Array(4096);
      crypto.getRandomValues(noise);
      noise[0] = 0xde; // not a PDU type
      await garbage.send(noise);
      assert.deepEqual(await garbage.read(), [0x07, Uint8Array.of(0, 0, 2, 1)]);
      assert.equal(await garbage.read(), null);
      garbage.close();

      await assertStillServing(12111);
      const aborted = logLines(scp.logs, "association aborted");
      assert.equal(aborted.length, 2);
      assert.match(JSON.stringify(aborted[0].error), /truncated PDU/);
      assert.equal(aborted[1].reasonText, "aborted by the service provider: unrecognized PDU");
    }),
});

Deno.test({
  name:
    "unknown PDU type, oversized PDU and a PDV on an unknown context are aborted with their reason",
  ignore,
  fn: () =>
    withScp(12112, async () => {
      const unknown = await rawPeer(12112);
      await unknown.send(Uint8Array.of(0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0));
      await expectAbortThenClose(unknown, 1);

      const oversized = await associated(12112);
      // Only the header: we must refuse from the announced length, before reading the body.
      await oversized.send(Uint8Array.of(0x04, 0, 0xff, 0xff, 0xff, 0xf0));
      await expectAbortThenClose(oversized, 6);

      const justOver = await associated(12112);
      await justOver.send(Uint8Array.of(0x04, 0, 0, 1, 0, 1)); // 65537 > our 65536
      await expectAbortThenClose(justOver, 6);

      const wrongContext = await associated(12112);
      await wrongContext.send(
        encodePData(
          99,
          true,
          true,
          encodeCommand({ commandField: 0x30, messageId: 1, commandDataSetType: 0x0101 }),
        ),
      );
      await expectAbortThenClose(wrongContext, 6);

      const wrongType = await associated(12112);
      await wrongType.send(associateRq()); // a second A-ASSOCIATE-RQ on an established association
      await expectAbortThenClose(wrongType, 2);

      await assertStillServing(12112);
    }),
});

Deno.test({
  name:
    "an abort or a dropped connection mid-dataset errors the handler's stream and stores nothing",
  ignore,
  fn: () =>
    withScp(12113, async (scp, dir) => {
      const file = syntheticCt({
        studyUid: newUid(),
        seriesUid: newUid(),
        sopUid: newUid(),
        rows: 256,
        cols: 256,
      });
      const dataset = file.subarray(readPart10Header(file).datasetOffset);
      for (const ending of ["abort", "close"] as const) {
        const peer = await associated(12113);
        await peer.send(encodePData(3, true, true, storeCommand(newUid())));
        await peer.send(encodePData(3, false, false, dataset.subarray(0, 30000)));
        await peer.send(encodePData(3, false, false, dataset.subarray(30000, 60000)));
        await until(() => scp.requests.length === (ending === "abort" ? 1 : 2));
        if (ending === "abort") await peer.send(encodeAbort(0, 0));
        peer.close();
        await until(() => scp.streamErrors.length === (ending === "abort" ? 1 : 2));
      }
      assert.ok(
        scp.streamErrors.every((e) => e instanceof AssociationAborted),
        String(scp.streamErrors),
      );
      assert.match(scp.streamErrors[0].message, /aborted by the service user/);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
      assert.equal(scp.stored.length, 0);
      await assertStillServing(12113);
    }),
});

/** A command split over two PDUs, then the dataset as three PDVs of one PDU. */
async function sendInManyPdvs(port: number, sopUid: string, dataset: Uint8Array) {
  const command = storeCommand(sopUid);
  const peer = await associated(port);
  await peer.send(encodePData(3, true, false, command.subarray(0, 20)));
  await peer.send(encodePData(3, true, true, command.subarray(20)));
  const third = Math.floor(dataset.length / 3) & ~1;
  const pdvs = [
    encodePData(3, false, false, dataset.subarray(0, third)).subarray(6),
    encodePData(3, false, false, dataset.subarray(third, 2 * third)).subarray(6),
    encodePData(3, false, true, dataset.subarray(2 * third)).subarray(6),
  ];
  const body = new Uint8Array(pdvs.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pdvs) (body.set(p, at), at += p.length);
  const pdu = new Uint8Array(6 + body.length);
  pdu[0] = 0x04;
  new DataView(pdu.buffer).setUint32(2, body.length);
  pdu.set(body, 6);
  await peer.send(pdu);
  const response = await peer.read();
  assert.equal(response?.[0], 0x04);
  const rsp = decodeCommand(response![1].subarray(6));
  assert.equal(rsp.commandField, 0x8001);
  assert.equal(rsp.status, 0);
  assert.equal(rsp.messageIdBeingRespondedTo, 7);
  assert.equal(rsp.affectedSopInstanceUid, sopUid);
  await peer.send(encodeReleaseRq());
  assert.equal((await peer.read())?.[0], 0x06);
  peer.close();
}

function ctDataset(sopUid: string): Uint8Array {
  const file = syntheticCt({ studyUid: newUid(), seriesUid: newUid(), sopUid, rows: 64, cols: 64 });
  return file.subarray(readPart10Header(file).datasetOffset);
}

Deno.test({
  name: "a command split over PDUs and a dataset in many PDVs of one PDU arrive intact",
  ignore,
  fn: () =>
    withScp(12114, async (scp, dir) => {
      const sopUid = newUid();
      const dataset = ctDataset(sopUid);
      await sendInManyPdvs(12114, sopUid, dataset);
      const stored = Deno.readFileSync(`${dir}/${sopUid}.dcm`);
      assert.deepEqual(stored.subarray(readPart10Header(stored).datasetOffset), dataset);
      assert.equal(scp.stored.length, 1);
    }),
});

Deno.test({
  name: "many PDVs of one PDU into a spool that frees each chunk once copied (handOver): intact",
  ignore,
  fn: async () => {
    using spoolDir = tempDir();
    const spool = await createSpool({
      dir: spoolDir.path,
      masterKey: new Uint8Array(32).fill(7),
      durability: "os",
    });
    const ids: string[] = [];
    const store = async (request: StoreRequest) => {
      const put = await spool.put(request.dataset, { prefix: request.meta, handOver: true });
      ids.push(put.id);
      return { status: 0 };
    };
    await withScp(12119, async () => {
      const sopUid = newUid();
      const dataset = ctDataset(sopUid);
      await sendInManyPdvs(12119, sopUid, dataset);
      assert.equal(ids.length, 1);
      const stored = await spool.readAll(ids[0]);
      assert.deepEqual(stored.subarray(readPart10Header(stored).datasetOffset), dataset);
    }, { store });
  },
});

Deno.test({
  name: "an unsupported DIMSE operation gets status 0x0211 and the association goes on",
  ignore,
  fn: () =>
    withScp(12115, async () => {
      const peer = await associated(12115);
      await peer.send(
        encodePData(
          1,
          true,
          true,
          encodeCommand({
            commandField: 0x0020,
            messageId: 3,
            commandDataSetType: 0x0101,
            affectedSopClassUid: "1.2.840.10008.1.1",
          }),
        ),
      );
      const find = decodeCommand((await peer.read())![1].subarray(6));
      assert.equal(find.commandField, 0x8020);
      assert.equal(find.status, 0x0211);
      await peer.send(
        encodePData(
          1,
          true,
          true,
          encodeCommand({
            commandField: 0x0030,
            messageId: 4,
            commandDataSetType: 0x0101,
            affectedSopClassUid: "1.2.840.10008.1.1",
          }),
        ),
      );
      const echo = decodeCommand((await peer.read())![1].subarray(6));
      assert.deepEqual([echo.commandField, echo.status, echo.messageIdBeingRespondedTo], [
        0x8030,
        0,
        4,
      ]);
      peer.close();
    }),
});

Deno.test({
  name:
    "ARTIM: a connection that never sends A-ASSOCIATE-RQ is closed; an idle association is aborted",
  ignore,
  fn: () =>
    withScp(12116, async (scp) => {
      const silent = await rawPeer(12116);
      const start = Date.now();
      assert.deepEqual(await silent.read(3000), [0x07, Uint8Array.of(0, 0, 2, 0)]);
      assert.equal(await silent.read(), null);
      assert.ok(Date.now() - start >= 250, "not before the ARTIM timeout");
      silent.close();
      const idle = await associated(12116);
      assert.deepEqual(await idle.read(3000), [0x07, Uint8Array.of(0, 0, 2, 0)]);
      assert.equal(await idle.read(), null);
      idle.close();
      assert.equal(
        logLines(scp.logs, "association aborted").filter((l) => l.reasonText === "timeout").length,
        2,
      );
      await assertStillServing(12116);
    }, { artimTimeoutMs: 300, idleTimeoutMs: 500 }),
});

Deno.test({
  name:
    "a throwing store handler yields 0xA700 with the message as ErrorComment; the association goes on",
  ignore,
  fn: async () => {
    using dir = tempDir();
    const files = [0, 1].map((n) => {
      const path = `${dir.path}/${n}.dcm`;
      Deno.writeFileSync(
        path,
        syntheticCt({
          studyUid: newUid(),
          seriesUid: newUid(),
          sopUid: newUid(),
          rows: 64,
          cols: 64,
        }),
      );
      return path;
    });
    let calls = 0;
    await withScp(12117, async (scp) => {
      const results = await cStore({
        host: "127.0.0.1",
        port: 12117,
        callingAe: "SCU",
        calledAe: "BEELDPOORT",
        files,
      });
      assert.deepEqual(results.map((r) => [r.status, r.comment]), [[0xa700, "spool full"], [
        0,
        undefined,
      ]]);
      assert.equal(logLines(scp.logs, "store handler failed").length, 1);
    }, {
      store: async (request: { dataset: ReadableStream<Uint8Array> }) => {
        if (calls++ === 0) throw new Error("spool full");
        await request.dataset.pipeTo(new WritableStream());
        return { status: 0 };
      },
    });
  },
});

Deno.test({
  name: "backpressure: a handler that does not read stops the sender; memory stays at a few PDUs",
  ignore,
  fn: async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let received = 0;
    await withScp(12118, async () => {
      const peer = await associated(12118);
      await peer.send(encodePData(3, true, true, storeCommand(newUid())));
      const chunk = new Uint8Array(65530);
      const total = 64 * 1024 * 1024 / chunk.length | 0; // about 64 MB
      let sent = 0;
      const sending = (async () => {
        for (let i = 0; i < total; i++) {
          await peer.send(encodePData(3, false, i === total - 1, chunk));
          sent += chunk.length;
        }
      })();
      await new Promise((r) => setTimeout(r, 700));
      // Only kernel socket buffers and about one PDU may be in flight while the handler waits.
      assert.ok(
        sent < 16 * 1024 * 1024,
        `sender got ${sent} bytes out while the handler read none`,
      );
      release();
      await sending;
      const rsp = decodeCommand((await peer.read(20000))![1].subarray(6));
      assert.equal(rsp.status, 0);
      assert.equal(received, total * chunk.length);
      peer.close();
    }, {
      store: async (request: { dataset: ReadableStream<Uint8Array> }) => {
        await gate;
        for await (const c of request.dataset) received += c.length;
        return { status: 0 };
      },
    });
  },
});
