import assert from "node:assert/strict";
import { zipStream } from "../../modules/xdm/mod.ts";
import { missing } from "../support/peers.ts";
import { tempDir } from "../support/appliance.ts";

Deno.test({
  name: "zip writer: Info-ZIP's unzip tests every CRC and size and extracts the bytes unchanged",
  ignore: missing("unzip"),
  fn: async () => {
    using dir = tempDir("bp-zip-");
    const big = Uint8Array.from({ length: 3 * 1024 * 1024 + 3 }, (_, i) => (i * 7) & 255);
    const zip = zipStream([
      {
        name: "DICOM/S0000001/I0000001",
        data: ReadableStream.from([big.subarray(0, 999), big.subarray(999)]),
      },
      {
        name: "IHE_XDM/SUBSET01/METADATA.XML",
        deflate: true,
        data: ["<a>", "x".repeat(50_000), "</a>"],
      },
      { name: "EMPTY", data: new Uint8Array(0) },
    ], { mtime: new Date(2026, 10, 22, 10, 30, 4) });
    await Deno.writeFile(
      `${dir.path}/t.zip`,
      new Uint8Array(await new Response(zip).arrayBuffer()),
    );
    const test = await new Deno.Command("unzip", { args: ["-t", "t.zip"], cwd: dir.path }).output();
    const report = new TextDecoder().decode(test.stdout);
    assert.equal(test.code, 0, report);
    assert.match(report, /No errors detected/);
    const list = new TextDecoder().decode(
      (await new Deno.Command("unzip", { args: ["-l", "t.zip"], cwd: dir.path }).output()).stdout,
    );
    assert.match(list, /3145731\s+2026-11-22 10:30\s+DICOM\/S0000001\/I0000001/);
    const extract = await new Deno.Command("unzip", {
      args: ["-q", "t.zip", "-d", "out"],
      cwd: dir.path,
    }).output();
    assert.equal(extract.code, 0);
    assert.deepEqual(Deno.readFileSync(`${dir.path}/out/DICOM/S0000001/I0000001`), big);
    assert.equal(
      Deno.readTextFileSync(`${dir.path}/out/IHE_XDM/SUBSET01/METADATA.XML`),
      `<a>${"x".repeat(50_000)}</a>`,
    );
    assert.equal(Deno.statSync(`${dir.path}/out/EMPTY`).size, 0);
  },
});
