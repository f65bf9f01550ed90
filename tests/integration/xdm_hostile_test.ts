/**
 * Hostile and broken packages are refused, each by its own named error, before anything is
 * written anywhere; and foreign but valid XDM (several subsets, lowercase names) reads fine.
 */
import assert from "node:assert/strict";
import {
  packXdm,
  readXdm,
  XdmAbsolutePath,
  XdmBadZip,
  XdmDuplicateEntry,
  XdmHashMismatch,
  XdmInvalidMetadata,
  XdmMissingMetadata,
  XdmPathTraversal,
  type XdmRandomAccessSource,
  XdmSizeMismatch,
  XdmSymlinkEntry,
  XdmZipBomb,
} from "../../modules/xdm/mod.ts";
import {
  buildZip,
  collect,
  type RawZipEntry,
  syntheticStudy,
  testRecipient,
  testSender,
  unzipAll,
  zeroBombZip,
} from "../support/xdm_fixtures.ts";

const study = syntheticStudy(1, 3, 32);
let good: RawZipEntry[] = [];
for await (
  const part of packXdm({
    instances: study.instances,
    study: study.study,
    sender: testSender,
    recipient: testRecipient,
  })
) good = unzipAll(await collect(part.stream));

const dir = Deno.makeTempDirSync({ prefix: "xdm_hostile_" });
let n = 0;
function write(bytes: Uint8Array): string {
  const path = `${dir}/case${++n}.zip`;
  Deno.writeFileSync(path, bytes);
  return path;
}
const text = (s: string) => new TextEncoder().encode(s);
const metadataOf = () =>
  new TextDecoder().decode(good.find((e) => e.name.endsWith("METADATA.XML"))!.data);
const withMetadata = (xml: string) =>
  good.map((e) => e.name.endsWith("METADATA.XML") ? { ...e, data: text(xml) } : e);

/** A package held in memory, as the relay reads a decrypted part. */
const inMemory = (bytes: Uint8Array): XdmRandomAccessSource => ({
  size: bytes.length,
  read: (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)),
});

/** Refused from a file (yauzl's streams) and from memory (stored entries read whole). */
async function refusedWith(bytes: Uint8Array, errorClass: new (...args: never[]) => Error) {
  for (const source of [write(bytes), inMemory(bytes)]) {
    await assert.rejects(async () => {
      const pkg = await readXdm(source);
      try {
        await pkg.verifyAll();
      } finally {
        pkg.close();
      }
    }, (err: Error) => {
      assert.ok(
        err instanceof errorClass,
        `expected ${errorClass.name}, got ${err.name}: ${err.message}`,
      );
      return true;
    });
  }
}

Deno.test("xdm hostile: the untouched package reads and verifies", async () => {
  const pkg = await readXdm(write(buildZip(good)));
  assert.equal((await pkg.verifyAll()).documents, 4);
  pkg.close();
});

Deno.test("xdm read: a stored image read from memory is a view into the package, checked", async () => {
  const zip = buildZip(good);
  const pkg = await readXdm(inMemory(zip));
  try {
    const images = pkg.documents.filter((d) => d.entryName.includes("/IMG"));
    assert.equal(images.length, 3);
    for (const doc of images) {
      const bytes = await pkg.readDocument(doc);
      assert.equal(bytes.buffer, zip.buffer);
      assert.deepEqual(bytes, good.find((e) => e.name === doc.entryName)!.data);
    }
  } finally {
    pkg.close();
  }
});

Deno.test("xdm hostile: a broken local file header is refused with XdmBadZip", async () => {
  const zip = buildZip(good);
  const view = new DataView(zip.buffer);
  const headers = [];
  for (let i = 0; i < zip.length - 4; i++) {
    if (view.getUint32(i, true) === 0x04034b50) headers.push(i);
  }
  const image = good.findIndex((e) => e.name.includes("/IMG"));
  view.setUint32(headers[image], 0x04034b51, true);
  await refusedWith(zip, XdmBadZip);
});

Deno.test("xdm hostile: zip slip (../) is refused with XdmPathTraversal", async () => {
  await refusedWith(
    buildZip([...good, { name: "IHE_XDM/../../evil.sh", data: text("x") }]),
    XdmPathTraversal,
  );
});

Deno.test("xdm hostile: an absolute path is refused with XdmAbsolutePath", async () => {
  await refusedWith(
    buildZip([...good, { name: "/etc/cron.d/evil", data: text("x") }]),
    XdmAbsolutePath,
  );
  await refusedWith(
    buildZip([...good, { name: "C:\\evil.bat", data: text("x") }]),
    XdmAbsolutePath,
  );
});

Deno.test("xdm hostile: a symlink entry is refused with XdmSymlinkEntry", async () => {
  const link = {
    name: "IHE_XDM/SUBSET01/LINK",
    data: text("/etc/passwd"),
    os: 3,
    attrs: 0o120777 << 16,
  };
  await refusedWith(buildZip([...good, link]), XdmSymlinkEntry);
});

Deno.test("xdm hostile: duplicate names are refused with XdmDuplicateEntry", async () => {
  const dicom = good.find((e) => e.name.endsWith(".DCM") && e.name.includes("IMG"))!;
  await refusedWith(buildZip([...good, { ...dicom }]), XdmDuplicateEntry);
  await refusedWith(
    buildZip([...good, { ...dicom, name: dicom.name.toLowerCase() }]),
    XdmDuplicateEntry,
  );
});

Deno.test("xdm hostile: 1 GiB of deflated zeros is refused with XdmZipBomb", async () => {
  const bomb = await zeroBombZip("IHE_XDM/SUBSET01/BOMB.DCM", 1024 ** 3);
  assert.ok(bomb.length < 2_000_000);
  await refusedWith(bomb, XdmZipBomb);
  // Without the ratio limit the total limit still holds.
  await assert.rejects(
    readXdm(write(bomb), { maxEntryRatio: 1e9, maxTotalBytes: 512 * 1024 ** 2 }),
    XdmZipBomb,
  );
});

Deno.test("xdm hostile: an entry inflating beyond its declared size is cut off (XdmZipBomb)", async () => {
  // Deflate the images, then make the central directory claim one of them is 1000 bytes.
  const target = good.find((e) => e.name.includes("/IMG"))!;
  const zip = buildZip(good.map((e) => ({ ...e, deflate: e.name.includes("/IMG") })));
  const view = new DataView(zip.buffer);
  const name = text(target.name);
  for (let i = 0; i < zip.length - 46; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    const here = zip.subarray(i + 46, i + 46 + nameLength);
    if (here.length === name.length && here.every((b, k) => b === name[k])) {
      view.setUint32(i + 24, 1000, true);
    }
  }
  const pkg = await readXdm(write(zip));
  try {
    const doc = pkg.documents.find((d) => d.entryName === target.name)!;
    await assert.rejects(collect(pkg.openDocument(doc)), XdmZipBomb);
    // Read whole, the recorded size is compared with the metadata's before anything inflates.
    await assert.rejects(pkg.readDocument(doc), XdmSizeMismatch);
  } finally {
    pkg.close();
  }
});

Deno.test("xdm hostile: a changed image byte is refused with XdmHashMismatch", async () => {
  const tampered = good.map((e) => {
    if (!e.name.includes("/IMG")) return e;
    const data = e.data.slice();
    data[data.length - 1] ^= 0xff;
    return { ...e, data };
  });
  await refusedWith(buildZip(tampered), XdmHashMismatch);
});

Deno.test("xdm hostile: a truncated or extended image is refused with XdmSizeMismatch", async () => {
  const shorter = good.map((e) =>
    e.name.includes("/IMG") ? { ...e, data: e.data.slice(0, -1) } : e
  );
  await refusedWith(buildZip(shorter), XdmSizeMismatch);
  const longer = good.map((e) =>
    e.name.includes("/IMG") ? { ...e, data: new Uint8Array([...e.data, 0]) } : e
  );
  await refusedWith(buildZip(longer), XdmSizeMismatch);
});

Deno.test("xdm hostile: no METADATA.XML is refused with XdmMissingMetadata", async () => {
  await refusedWith(
    buildZip(good.filter((e) => !e.name.endsWith("METADATA.XML"))),
    XdmMissingMetadata,
  );
});

Deno.test("xdm hostile: broken METADATA.XML is refused with XdmInvalidMetadata", async () => {
  const xml = metadataOf();
  const cases = [
    "this is not xml",
    xml.slice(0, xml.length / 2),
    xml.replaceAll("lcm:SubmitObjectsRequest", "lcm:RemoveObjectsRequest"),
    `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + xml.replace(/^<\?xml[^>]*>/, ""),
    xml.replace("KOS00001.DCM</rim:Value>", "KOS00009.DCM</rim:Value>"), // listed but absent
    xml.replace(/<rim:Slot name="hash">.*?<\/rim:Slot>/, ""),
  ];
  for (const bad of cases) await refusedWith(buildZip(withMetadata(bad)), XdmInvalidMetadata);
});

Deno.test("xdm read: a foreign XDM with two lowercase subsets and ../ URIs reads", async () => {
  const xml = metadataOf();
  const dicom = good.filter((e) => e.name.includes("/IMG") || e.name.endsWith("KOS00001.DCM"));
  const moved = dicom.map((e) => ({
    ...e,
    name: e.name.replace("IHE_XDM/SUBSET01/", "ihe_xdm/subset01/").toLowerCase(),
  }));
  // A second subset whose metadata points one level up into the first subset's files.
  const second = xml.replace(
    /<rim:Value>(KOS00001\.DCM|IMG[^<]+)<\/rim:Value>/g,
    "<rim:Value>../SUBSET01/$1</rim:Value>",
  );
  const zip = buildZip([
    ...moved,
    { name: "ihe_xdm/subset01/metadata.xml", data: text(xml), deflate: true },
    { name: "IHE_XDM/SUBSET02/METADATA.XML", data: text(second), deflate: true },
  ]);
  const pkg = await readXdm(write(zip));
  try {
    assert.equal(pkg.submissionSets.length, 2);
    assert.equal(pkg.documents.length, 8);
    assert.equal((await pkg.verifyAll()).documents, 8);
    assert.ok(pkg.documents.every((d) => d.entryName.startsWith("ihe_xdm/subset01/")));
  } finally {
    pkg.close();
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
