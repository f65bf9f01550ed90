import type { Spool } from "../spool/mod.ts";

/**
 * A JPEG preview of one DICOM object with dcmtk's `dcmj2pnm +oj` (min-max window, scaled to
 * `width`). dcmj2pnm reads files, so the plaintext is written to a private temporary directory and
 * removed at once. Resolves to null when the tool fails (e.g. an object without pixel data).
 */
export async function jpegPreview(
  spool: Spool,
  spoolId: string,
  options: { tool?: string; tmpDir?: string; width?: number } = {},
): Promise<Uint8Array | null> {
  const dir = await Deno.makeTempDir({ dir: options.tmpDir, prefix: "bp-preview-" });
  try {
    await Deno.chmod(dir, 0o700);
    const input = `${dir}/in.dcm`;
    const output = `${dir}/out.jpg`;
    const file = await Deno.open(input, { write: true, create: true, mode: 0o600 });
    await (await spool.get(spoolId)).pipeTo(file.writable);
    const run = await new Deno.Command(options.tool ?? "dcmj2pnm", {
      args: ["+oj", "+Wm", "+Sxv", String(options.width ?? 512), input, output],
      stdout: "null",
      stderr: "null",
    }).output();
    if (run.code !== 0) return null;
    return await Deno.readFile(output);
  } catch {
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
