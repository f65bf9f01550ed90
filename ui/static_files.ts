import type { Context } from "hono";

const contentTypes: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
};

/**
 * Serves the files of ui/static by exact name only (no directory walking, nothing from
 * node_modules). Files are read once at start-up; they are small.
 */
export function staticFiles(): (c: Context) => Response | Promise<Response> {
  const dir = new URL("./static/", import.meta.url);
  const files = new Map<string, { body: Uint8Array; type: string }>();
  for (const entry of Deno.readDirSync(dir)) {
    const ext = entry.name.split(".").pop() ?? "";
    if (!entry.isFile || !contentTypes[ext]) continue;
    files.set(entry.name, {
      body: Deno.readFileSync(new URL(entry.name, dir)),
      type: contentTypes[ext],
    });
  }
  return (c) => {
    const file = files.get(c.req.param("name") ?? "");
    if (!file) return c.notFound();
    return new Response(file.body.slice(), {
      headers: { "content-type": file.type, "cache-control": "public, max-age=300" },
    });
  };
}
