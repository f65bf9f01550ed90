/**
 * Differential tests: `readInstanceHeader` (our element reader, dcmjs as its fallback) against
 * `readInstanceHeaderWithDcmjs` (today's parse) on fixtures, dcmtk's encodings of them, sequences
 * of every length form, character sets, every cut of the prefix, and damaged bytes.
 */
import assert from "node:assert/strict";
import dcmjs from "dcmjs";
import { readInstanceHeader, readInstanceHeaderWithDcmjs } from "../../modules/dicom/header.ts";
import { readHeaderElements } from "../../modules/dicom/header_elements.ts";
import { NotFastReadable } from "../../modules/dicom/element_reader.ts";
import { longVrs } from "../../modules/dicom/constants.ts";
import { concatBytes } from "../../modules/core/mod.ts";
import { syntheticCt } from "../support/dicom_fixtures.ts";
import { missing } from "../support/peers.ts";

type Ts = "explicit" | "implicit";
type Bytes = Uint8Array;

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const utf8 = (s: string) => new TextEncoder().encode(s);

function u16(n: number): Bytes {
  return new Uint8Array(new Uint16Array([n]).buffer);
}

function u32(n: number): Bytes {
  return new Uint8Array(new Uint32Array([n]).buffer);
}

const tagBytes = (tag: number) => concatBytes([u16(tag >>> 16), u16(tag & 0xffff)]);

/** One element; strings are padded to even length (UI with NUL, others with a space). */
function el(
  ts: Ts,
  tag: number,
  vr: string,
  value: string | Bytes,
  undefinedLength = false,
): Bytes {
  let data = typeof value === "string" ? latin1(value) : value;
  if (data.length % 2 && !undefinedLength) {
    data = concatBytes([data, new Uint8Array([vr === "UI" || vr === "OB" ? 0 : 0x20])]);
  }
  const length = undefinedLength ? 0xffffffff : data.length;
  if (ts === "implicit") return concatBytes([tagBytes(tag), u32(length), data]);
  if (longVrs.has(vr)) return concatBytes([tagBytes(tag), latin1(vr), u16(0), u32(length), data]);
  return concatBytes([tagBytes(tag), latin1(vr), u16(length), data]);
}

interface Lengths {
  sequence: "defined" | "undefined";
  item: "defined" | "undefined";
}

/** A sequence of items (each a list of elements), in the given length forms. */
function sq(ts: Ts, tag: number, items: Bytes[][], lengths: Lengths): Bytes {
  const body = concatBytes(items.map((elements) => {
    const content = concatBytes(elements);
    return lengths.item === "defined"
      ? concatBytes([tagBytes(0xfffee000), u32(content.length), content])
      : concatBytes([tagBytes(0xfffee000), u32(0xffffffff), content, tagBytes(0xfffee00d), u32(0)]);
  }));
  if (lengths.sequence === "defined") return el(ts, tag, "SQ", body);
  return concatBytes([el(ts, tag, "SQ", body, true), tagBytes(0xfffee0dd), u32(0)]);
}

const sopClass = "1.2.840.10008.5.1.4.1.1.2";
const tsUid = { explicit: "1.2.840.10008.1.2.1", implicit: "1.2.840.10008.1.2" };

function part10(dataset: Bytes[], transferSyntax: string, sopUid = "2.25.77"): Bytes {
  const meta = concatBytes([
    el("explicit", 0x00020001, "OB", new Uint8Array([0, 1])),
    el("explicit", 0x00020002, "UI", sopClass),
    el("explicit", 0x00020003, "UI", sopUid),
    el("explicit", 0x00020010, "UI", transferSyntax),
    el("explicit", 0x00020012, "UI", "2.25.1"),
  ]);
  const preamble = new Uint8Array(132);
  preamble.set(latin1("DICM"), 128);
  return concatBytes([
    preamble,
    el("explicit", 0x00020000, "UL", u32(meta.length)),
    meta,
    ...dataset,
  ]);
}

interface RichOptions {
  ts?: Ts;
  lengths?: Lengths;
  charset?: string;
  name?: Bytes;
  /** Extra elements, written after the patient module. */
  extra?: Bytes[];
}

/** A small CT image with the BSN in both sequences, nested and private elements, 16x16 pixels. */
function rich(options: RichOptions = {}): Bytes {
  const ts = options.ts ?? "explicit";
  const lengths = options.lengths ?? { sequence: "undefined", item: "undefined" };
  const us = (n: number) => u16(n);
  const elements = [
    el(ts, 0x00080005, "CS", options.charset ?? "ISO_IR 100"),
    el(ts, 0x00080008, "CS", "ORIGINAL\\PRIMARY\\AXIAL"),
    el(ts, 0x00080016, "UI", sopClass),
    el(ts, 0x00080018, "UI", "2.25.77"),
    el(ts, 0x00080020, "DA", "20260102"),
    el(ts, 0x00080030, "TM", "101500.25 "),
    el(ts, 0x00080050, "SH", " ACC 42 "),
    el(ts, 0x00080060, "CS", "CT"),
    el(ts, 0x00080090, "PN", "Arts^Anna=Ideo\\Tweede^Naam"),
    sq(ts, 0x00081140, [[
      el(ts, 0x00081150, "UI", sopClass),
      el(ts, 0x00081155, "UI", "2.25.78"),
      sq(ts, 0x00089215, [[el(ts, 0x00080100, "SH", "121311")]], lengths),
    ]], lengths),
    el(ts, 0x00081030, "LO", "CT THORAX"),
    el(ts, 0x0008103e, "LO", "AXIAL\\SECOND"),
    el(ts, 0x00090010, "LO", "BEELDPOORT TEST"),
    el(ts, 0x00091001, "OB", new Uint8Array([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0])),
    el(ts, 0x00100010, "PN", options.name ?? "Proef^Pieter"),
    el(ts, 0x00100020, "LO", "MRN123"),
    el(ts, 0x00100021, "LO", "ZH-LOCAL"),
    sq(ts, 0x00100024, [[el(ts, 0x00400032, "UT", "2.16.840.1.113883.2.4.6.3")]], lengths),
    el(ts, 0x00100030, "DA", "19700101"),
    el(ts, 0x00100040, "CS", "F "),
    sq(ts, 0x00101002, [
      [el(ts, 0x00100020, "LO", "123"), el(ts, 0x00100021, "LO", "ZH")],
      [el(ts, 0x00100020, "LO", "999999990"), el(ts, 0x00100021, "LO", "NLMINBIZA")],
    ], lengths),
    ...(options.extra ?? []),
    el(ts, 0x0020000d, "UI", "2.25.70"),
    el(ts, 0x0020000e, "UI", "2.25.71"),
    el(ts, 0x00200010, "SH", "S1"),
    el(ts, 0x00200011, "IS", " 4 "),
    el(ts, 0x00200013, "IS", "12"),
    el(ts, 0x00201208, "IS", "300"),
    el(ts, 0x00280002, "US", us(1)),
    el(ts, 0x00280004, "CS", "MONOCHROME2"),
    el(ts, 0x00280010, "US", us(16)),
    el(ts, 0x00280011, "US", us(16)),
    el(ts, 0x00280100, "US", us(16)),
    el(ts, 0x00280101, "US", us(12)),
    el(ts, 0x00280102, "US", us(11)),
    el(ts, 0x00280103, "US", us(0)),
    el(ts, 0x7fe00010, "OW", new Uint8Array(16 * 16 * 2).fill(3)),
  ];
  return part10(elements, tsUid[ts]);
}

type Outcome = { header: unknown } | { threw: true };

function outcome(read: () => unknown): Outcome {
  try {
    return { header: read() };
  } catch {
    return { threw: true };
  }
}

/** Both readers give the same header, or both throw. */
function assertSame(bytes: Bytes, label: string): Outcome {
  const ours = outcome(() => readInstanceHeader(bytes));
  assert.deepEqual(ours, outcome(() => readInstanceHeaderWithDcmjs(bytes)), label);
  return ours;
}

/** Whether our reader handled the bytes itself (no fallback to dcmjs). */
function fast(bytes: Bytes): boolean {
  try {
    readHeaderElements(bytes);
    return true;
  } catch (e) {
    if (e instanceof NotFastReadable) return false;
    throw e;
  }
}

/** Where the dataset starts: after the preamble, the meta group length and the meta. */
function metaEnd(bytes: Bytes): number {
  return 144 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(140, true);
}

function pixelDataAt(bytes: Bytes): number {
  for (let i = metaEnd(bytes); i + 4 <= bytes.length; i += 2) {
    if (bytes[i] === 0xe0 && bytes[i + 1] === 0x7f && bytes[i + 2] === 0x10 && bytes[i + 3] === 0) {
      return i;
    }
  }
  return bytes.length;
}

/** Every cut from nothing to past the pixel data tag gives the same header from both readers. */
function assertEveryCut(bytes: Bytes, label: string): void {
  const end = Math.min(bytes.length, pixelDataAt(bytes) + 16);
  for (let cut = 0; cut <= end; cut++) {
    const prefix = bytes.slice(0, cut);
    assertSame(prefix, `${label}, cut at ${cut}`);
    if (cut >= metaEnd(bytes)) assert.ok(fast(prefix), `${label}: fast at cut ${cut}`);
  }
}

const allLengths: Lengths[] = [
  { sequence: "undefined", item: "undefined" },
  { sequence: "defined", item: "defined" },
  { sequence: "undefined", item: "defined" },
  { sequence: "defined", item: "undefined" },
];

Deno.test("the element reader reads the BSN from both sequences, in every length form and VR encoding", () => {
  for (const ts of ["explicit", "implicit"] as const) {
    for (const lengths of allLengths) {
      const bytes = rich({ ts, lengths });
      const label = `${ts} ${lengths.sequence}/${lengths.item}`;
      assert.ok(fast(bytes), label);
      const { header } = assertSame(bytes, label) as { header: Record<string, unknown> };
      assert.equal(header.bsn, "999999990", label);
      assert.equal(header.issuerOfPatientIdOid, "2.16.840.1.113883.2.4.6.3", label);
      assert.equal(header.patientId, "MRN123", label);
      assert.equal(header.seriesNumber, 4, label);
      assert.equal(header.studyTime, "101500.25", label);
      assert.equal(header.accessionNumber, "ACC 42", label);
      assert.equal(header.referringPhysicianName, "Arts^Anna", label);
      assert.equal(header.seriesDescription, "AXIAL", label);
    }
  }
});

Deno.test("the element reader agrees with dcmjs at every cut of the prefix", () => {
  for (const ts of ["explicit", "implicit"] as const) {
    for (const lengths of allLengths.slice(0, 2)) {
      assertEveryCut(rich({ ts, lengths }), `${ts} ${lengths.sequence}/${lengths.item}`);
    }
    const ct = syntheticCt({
      studyUid: "2.25.1",
      seriesUid: "2.25.2",
      sopUid: "2.25.3",
      rows: 8,
      cols: 8,
      transferSyntax: ts,
    });
    assertEveryCut(ct, `synthetic ${ts}`);
  }
});

Deno.test("the element reader agrees with dcmjs on the fixtures and on dcmjs's own encoding", () => {
  for (const ts of ["explicit", "implicit"] as const) {
    for (const instance of [1, 7, 123]) {
      const bytes = syntheticCt({
        studyUid: "2.25.10",
        seriesUid: "2.25.11",
        sopUid: `2.25.12${instance}`,
        rows: 64,
        cols: 64,
        patientName: "Jansen^Jan",
        seriesNumber: 2,
        instanceNumber: instance,
        transferSyntax: ts,
      });
      assert.ok(fast(bytes));
      assertSame(bytes, `synthetic ${ts} ${instance}`);
      assertSame(bytes.subarray(0, 4096), `synthetic ${ts} ${instance}, 4 KiB`);
    }
  }
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const dataset = {
    SpecificCharacterSet: "ISO_IR 192",
    SOPClassUID: sopClass,
    SOPInstanceUID: "2.25.21",
    StudyInstanceUID: "2.25.22",
    SeriesInstanceUID: "2.25.23",
    PatientID: "MRN9",
    IssuerOfPatientID: "ZH",
    PatientName: "Ærø^Åse",
    IssuerOfPatientIDQualifiersSequence: [{ UniversalEntityID: "2.16.840.1.113883.2.4.6.3" }],
    OtherPatientIDsSequence: [{ PatientID: "999999990", IssuerOfPatientID: "NLMINBIZA" }],
    Modality: "MR",
    SeriesNumber: "5",
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: "2.25.21",
    TransferSyntaxUID: tsUid.explicit,
    ImplementationClassUID: "2.25.1",
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  const bytes = new Uint8Array(dict.write());
  assert.ok(fast(bytes));
  const { header } = assertSame(bytes, "dcmjs-written") as { header: Record<string, unknown> };
  assert.equal(header.patientName, "Ærø^Åse");
  assert.equal(header.bsn, "999999990");
  assertEveryCut(bytes, "dcmjs-written");
});

Deno.test("the element reader decodes names as dcmjs does for Latin-1, UTF-8 and the default repertoire", () => {
  const cases: [string | undefined, Bytes, string][] = [
    ["ISO_IR 100", latin1("Müller^Jürgen"), "Müller^Jürgen"],
    ["ISO_IR 192", utf8("Müller^Jürgen"), "Müller^Jürgen"],
    ["ISO_IR 192", utf8("Ωμέγα^Ἀλφα"), "Ωμέγα^Ἀλφα"],
    ["", latin1("Smit^Saar"), "Smit^Saar"],
    ["ISO_IR 6", latin1("D\x80\x9e^J"), "D€ž^J"],
  ];
  for (const [charset, name, expected] of cases) {
    for (const ts of ["explicit", "implicit"] as const) {
      const bytes = rich({ ts, charset, name });
      assert.ok(fast(bytes), `${charset} ${expected}`);
      const { header } = assertSame(bytes, `${charset} ${expected}`) as {
        header: Record<string, unknown>;
      };
      assert.equal(header.patientName, expected);
    }
  }
  // Without a SpecificCharacterSet element at all.
  const plain = part10([el("explicit", 0x00100010, "PN", latin1("Bäcker^Bo"))], tsUid.explicit);
  assert.equal(
    (assertSame(plain, "no charset") as { header: { patientName: string } }).header.patientName,
    "Bäcker^Bo",
  );
  // Other character sets go to dcmjs.
  for (const charset of ["ISO 2022 IR 87", "ISO_IR 100\\ISO 2022 IR 87", "ISO_IR 144", "GB18030"]) {
    const bytes = rich({ charset, name: latin1("\x1b$B;3ED\x1b(B^Taro") });
    assert.equal(fast(bytes), false, charset);
    assertSame(bytes, charset);
  }
});

Deno.test("what dcmjs would read differently goes to dcmjs: deflate, big endian, item-like bytes, UN, odd lengths", () => {
  const itemLike = new Uint8Array([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
  const undefinedItems = { sequence: "undefined", item: "undefined" } as const;
  const slow = [
    rich({
      extra: [
        sq("explicit", 0x00321064, [[el("explicit", 0x00091001, "OB", itemLike)]], undefinedItems),
      ],
    }),
    rich({ extra: [el("explicit", 0x00180015, "UN", latin1("CHEST "))] }),
    rich({ extra: [concatBytes([tagBytes(0x00180015), latin1("CS"), u16(3), latin1("ABC")])] }),
    part10([el("explicit", 0x00100020, "LO", "X")], "1.2.840.10008.1.2.2"),
  ];
  for (const [i, bytes] of slow.entries()) {
    assert.equal(fast(bytes), false, `case ${i}`);
    assertSame(bytes, `case ${i}`);
  }
});

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("garbage and damaged headers: the same header or the same refusal, and no hang", () => {
  const next = random(20260101);
  for (let i = 0; i < 200; i++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(next() * 600) },
      () => Math.floor(next() * 256),
    );
    if (i % 2 && bytes.length >= 4) bytes.set(latin1("DICM"), Math.min(128, bytes.length - 4));
    assertSame(bytes, `random ${i}`);
  }
  const sources = [
    rich(),
    rich({ ts: "implicit" }),
    rich({ lengths: { sequence: "defined", item: "defined" } }),
  ];
  for (let i = 0; i < 1500; i++) {
    const source = sources[i % sources.length];
    const bytes = source.slice(0, pixelDataAt(source) + 64);
    const from = metaEnd(bytes);
    for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) {
      bytes[from + Math.floor(next() * (bytes.length - from))] = Math.floor(next() * 256);
    }
    assertSame(bytes, `damaged ${i}`);
  }
});

async function dcmtk(tool: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(tool, { args, stdout: "piped", stderr: "piped" }).output();
  assert.equal(out.code, 0, `${tool} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test({
  name:
    "the element reader agrees with dcmjs on dcmtk's encodings: transfer syntaxes, lengths, group lengths",
  ignore: missing("dcmconv", "dcmcjpeg", "dcmcjpls", "dcmcrle"),
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    try {
      const source = `${dir}/source.dcm`;
      Deno.writeFileSync(source, rich());
      const variants: [string, string, string[], boolean][] = [
        ["explicit-defined", "dcmconv", ["+te", "+e"], true],
        ["explicit-undefined", "dcmconv", ["+te", "-e"], true],
        ["explicit-group-lengths", "dcmconv", ["+te", "+g"], true],
        ["implicit-defined", "dcmconv", ["+ti", "+e"], true],
        ["implicit-undefined", "dcmconv", ["+ti", "-e", "+g"], true],
        ["big-endian", "dcmconv", ["+tb"], false],
        ["deflated", "dcmconv", ["+td"], false],
        ["jpeg-baseline", "dcmcjpeg", ["+e1"], true],
        ["jpeg-lossless", "dcmcjpeg", ["+el"], true],
        ["jpeg-ls", "dcmcjpls", ["+el"], true],
        ["rle", "dcmcrle", [], true],
      ];
      for (const [name, tool, args, expectFast] of variants) {
        const path = `${dir}/${name}.dcm`;
        await dcmtk(tool, [...args, source, path]);
        const bytes = Deno.readFileSync(path);
        assert.equal(fast(bytes), expectFast, name);
        const { header } = assertSame(bytes, name) as { header: Record<string, unknown> };
        assert.equal(header.bsn, "999999990", name);
        if (name.startsWith("implicit") || name.startsWith("explicit-undefined")) {
          assertEveryCut(bytes, name);
        }
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
