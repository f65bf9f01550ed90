/**
 * Our SCP against real dcmtk peers (echoscu, storescu, dcmsend): negotiation, access control,
 * byte-identical datasets for uncompressed and compressed transfer syntaxes, concurrency.
 */
import assert from "node:assert/strict";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";
import { newUid, writeSyntheticCt, writeSyntheticStudy } from "../support/dicom_fixtures.ts";
import { datasetBytes, dcmtk, logLines, startTestScp } from "../support/dicom_harness.ts";
import { readPart10Header } from "../../modules/dicom/mod.ts";

const host = "127.0.0.1";
const ignore = missing(
  "echoscu",
  "storescu",
  "dcmsend",
  "dcmcjpeg",
  "dcmcrle",
  "dcmconv",
  "dcmcjpls",
);

Deno.test({
  name: "echoscu gets Success from our SCP over a logged association",
  ignore,
  fn: async () => {
    using dir = tempDir();
    const scp = startTestScp(12101, dir.path);
    try {
      const echo = await dcmtk("echoscu", [
        "-v",
        "-aet",
        "MODALITY",
        "-aec",
        "BEELDPOORT",
        host,
        "12101",
      ]);
      assert.equal(echo.code, 0, echo.output);
      assert.match(echo.output, /Received Echo Response \(Success\)/);
      const accepted = logLines(scp.logs, "association accepted");
      assert.equal(accepted.length, 1);
      assert.equal(accepted[0].callingAe, "MODALITY");
      assert.equal(accepted[0].contextsAccepted, 1);
      assert.equal(logLines(scp.logs, "association released").length, 1);
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name:
    "storescu: implicit and explicit LE instances arrive with identical dataset bytes and a valid meta header",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/in`);
    Deno.mkdirSync(`${dir.path}/out`);
    const studyUid = newUid();
    const make = (ts: "explicit" | "implicit", n: number) => {
      const path = `${dir.path}/in/${ts}${n}.dcm`;
      writeSyntheticCt(path, {
        studyUid,
        seriesUid: studyUid + ".2",
        sopUid: newUid(),
        rows: 256,
        cols: 256,
        transferSyntax: ts,
      });
      return path;
    };
    const explicit = [make("explicit", 1), make("explicit", 2)];
    const implicit = [make("implicit", 1), make("implicit", 2)];
    const bigEndian = `${dir.path}/in/big.dcm`;
    const converted = await dcmtk("dcmconv", ["+tb", make("explicit", 3), bigEndian]);
    assert.equal(converted.code, 0, converted.output);
    const scp = startTestScp(12102, `${dir.path}/out`);
    try {
      // storescu proposes [ELE] and [EBE, ILE] by default; we take the first syntax we support in
      // each context, so implicit files go with -xi ([ILE] only) and big endian with -xb ([EBE]).
      const runs = [
        await dcmtk("storescu", [
          "-v",
          "-R",
          "-aet",
          "MODALITY",
          "-aec",
          "BEELDPOORT",
          host,
          "12102",
          ...explicit,
        ]),
        await dcmtk("storescu", [
          "-v",
          "-R",
          "-xi",
          "-aet",
          "MODALITY",
          "-aec",
          "BEELDPOORT",
          host,
          "12102",
          ...implicit,
        ]),
        await dcmtk("storescu", [
          "-v",
          "-R",
          "-xb",
          "-aet",
          "MODALITY",
          "-aec",
          "BEELDPOORT",
          host,
          "12102",
          bigEndian,
        ]),
      ];
      for (const run of runs) {
        assert.equal(run.code, 0, run.output);
        assert.doesNotMatch(run.output, /Converting transfer syntax: (?!(\w+ \w+ \w+) -> \1)/);
      }
      const files = [...explicit, ...implicit, bigEndian];
      assert.equal(scp.stored.length, 5);
      for (const file of files) {
        const sent = readPart10Header(Deno.readFileSync(file));
        const received = `${dir.path}/out/${sent.sopInstanceUid}.dcm`;
        assert.deepEqual(datasetBytes(received), datasetBytes(file), file);
        const meta = readPart10Header(Deno.readFileSync(received));
        assert.equal(meta.transferSyntaxUid, sent.transferSyntaxUid);
        assert.equal(meta.sopClassUid, sent.sopClassUid);
        // dcmtk itself reads our meta header, group length included.
        const dump = await dcmtk("dcmdump", ["-M", "+L", received]);
        assert.equal(dump.code, 0, dump.output);
        assert.match(dump.output, /\(0002,0016\) AE \[MODALITY\]/);
        assert.doesNotMatch(dump.output, /W: |E: /);
      }
      assert.equal(scp.requests[0].callingAe, "MODALITY");
      assert.equal(scp.requests[0].remoteAddress, host);
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name:
    "dcmsend -dn: compressed and deflated instances pass through byte-identical in their own syntax",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/in`);
    Deno.mkdirSync(`${dir.path}/out`);
    const source = `${dir.path}/source.dcm`;
    const studyUid = newUid();
    const make = async (name: string, tool: string, args: string[], expectTs: string) => {
      writeSyntheticCt(source, {
        studyUid,
        seriesUid: studyUid + ".2",
        sopUid: newUid(),
        rows: 128,
        cols: 128,
      });
      const out = `${dir.path}/in/${name}.dcm`;
      const r = await dcmtk(tool, [...args, source, out]);
      assert.equal(r.code, 0, r.output);
      assert.equal(readPart10Header(Deno.readFileSync(out)).transferSyntaxUid, expectTs, name);
      return out;
    };
    const files = [
      await make("jpeg-sv1", "dcmcjpeg", ["+e1"], "1.2.840.10008.1.2.4.70"),
      await make("jpeg-lossless", "dcmcjpeg", ["+el"], "1.2.840.10008.1.2.4.57"),
      await make("jpeg-extended", "dcmcjpeg", ["+ee"], "1.2.840.10008.1.2.4.51"),
      await make("jpeg-ls", "dcmcjpls", ["+el"], "1.2.840.10008.1.2.4.80"),
      await make("jpeg-ls-near", "dcmcjpls", ["+en"], "1.2.840.10008.1.2.4.81"),
      await make("rle", "dcmcrle", [], "1.2.840.10008.1.2.5"),
      await make("deflated", "dcmconv", ["+td"], "1.2.840.10008.1.2.1.99"),
    ];
    const scp = startTestScp(12103, `${dir.path}/out`);
    try {
      const run = await dcmtk("dcmsend", [
        "-v",
        "-dn",
        "-aet",
        "MODALITY",
        "-aec",
        "BEELDPOORT",
        host,
        "12103",
        ...files,
      ]);
      assert.equal(run.code, 0, run.output);
      assert.equal(scp.stored.length, files.length, run.output);
      for (const file of files) {
        const sent = readPart10Header(Deno.readFileSync(file));
        const received = `${dir.path}/out/${sent.sopInstanceUid}.dcm`;
        assert.equal(
          readPart10Header(Deno.readFileSync(received)).transferSyntaxUid,
          sent.transferSyntaxUid,
          file,
        );
        const expected = datasetBytes(file);
        if (expected.length % 2 === 1) {
          // PS3.8 9.3.5.1 wants even PDVs: dcmsend pads an odd deflated stream with one NUL byte.
          assert.equal(sent.transferSyntaxUid, "1.2.840.10008.1.2.1.99");
          assert.deepEqual(datasetBytes(received), Uint8Array.of(...expected, 0), file);
        } else {
          assert.deepEqual(datasetBytes(received), expected, file);
        }
      }
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name: "four storescu associations at once all store every instance",
  ignore,
  fn: async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/out`);
    const study = writeSyntheticStudy(`${dir.path}/in`, { instances: 40, rows: 128, cols: 128 });
    const scp = startTestScp(12104, `${dir.path}/out`, { maxAssociations: 4 });
    try {
      const runs = await Promise.all(
        [0, 1, 2, 3].map((n) =>
          dcmtk("storescu", [
            "-R",
            "-aet",
            `CT${n}`,
            "-aec",
            "BEELDPOORT",
            host,
            "12104",
            ...study.files.filter((_, i) => i % 4 === n),
          ])
        ),
      );
      for (const run of runs) assert.equal(run.code, 0, run.output);
      assert.equal(scp.stored.length, 40);
      assert.deepEqual([...scp.stored].sort(), [...study.sopUids].sort());
      assert.equal(logLines(scp.logs, "association accepted").length, 4);
      assert.equal(logLines(scp.logs, "association rejected").length, 0);
      for (const [i, file] of study.files.entries()) {
        assert.deepEqual(
          datasetBytes(`${dir.path}/out/${study.sopUids[i]}.dcm`),
          datasetBytes(file),
        );
      }
    } finally {
      await scp.server.close();
    }
  },
});

Deno.test({
  name:
    "unknown calling AE, unknown called AE and a disallowed address are rejected with the reason named",
  ignore,
  fn: async () => {
    using dir = tempDir();
    const scp = startTestScp(12105, dir.path, { allowedSenders: ["CT1"] });
    const other = startTestScp(12106, dir.path, {
      allowedSenders: ["*"],
      allowedAddresses: ["10.1.2.3"],
    });
    try {
      const badCalling = await dcmtk("echoscu", [
        "-aet",
        "INTRUDER",
        "-aec",
        "BEELDPOORT",
        host,
        "12105",
      ]);
      assert.notEqual(badCalling.code, 0);
      assert.match(badCalling.output, /Association Rejected/);
      assert.match(badCalling.output, /Calling AE Title Not Recognized/);
      const badCalled = await dcmtk("echoscu", ["-aet", "CT1", "-aec", "SOMEONE", host, "12105"]);
      assert.notEqual(badCalled.code, 0);
      assert.match(badCalled.output, /Called AE Title Not Recognized/);
      const good = await dcmtk("echoscu", ["-aet", "CT1", "-aec", "BEELDPOORT", host, "12105"]);
      assert.equal(good.code, 0, good.output);
      const rejected = logLines(scp.logs, "association rejected");
      assert.deepEqual(
        rejected.map((l) => [l.event, l.callingAe, l.calledAe, l.remoteAddress, l.reasonText]),
        [
          [
            "association rejected",
            "INTRUDER",
            "BEELDPOORT",
            host,
            "calling AE title not recognized",
          ],
          ["association rejected", "CT1", "SOMEONE", host, "called AE title not recognized"],
        ],
      );
      const badAddress = await dcmtk("echoscu", [
        "-aet",
        "CT1",
        "-aec",
        "BEELDPOORT",
        host,
        "12106",
      ]);
      assert.match(badAddress.output, /Calling AE Title Not Recognized/);
      assert.match(
        String(logLines(other.logs, "association rejected")[0].detail),
        /source address 127\.0\.0\.1 not allowed/,
      );
    } finally {
      await scp.server.close();
      await other.server.close();
    }
  },
});
