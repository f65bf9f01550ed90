/**
 * Address book benchmark: 5,000 organisations (one gateway endpoint with an S/MIME certificate
 * each) synced from the mCSD test directory over loopback HTTP into a SQLite file, then search
 * latency over 1,000 queries. Last line: one JSON object.
 *
 *   deno run -A scripts/bench/addressbook.ts [--entries 5000] [--queries 1000]
 */
import { join } from "node:path";
import { createLogger } from "../../modules/core/mod.ts";
import { migrateToLatest, openDatabase } from "../../modules/db/mod.ts";
import { createAddressBook, fhirSource } from "../../modules/addressbook/mod.ts";
import { createTestCa } from "../../tests/support/addressbook_certs.ts";
import { organisation, startFhirTestServer } from "../../tests/support/addressbook_fhir_server.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const entries = arg("entries", 5000);
const queries = arg("queries", 1000);
const port = 12350;

const cities = [
  "Amsterdam",
  "Rotterdam",
  "Den Haag",
  "Utrecht",
  "Eindhoven",
  "Groningen",
  "Tilburg",
  "Almere",
  "Breda",
  "Nijmegen",
  "Apeldoorn",
  "Haarlem",
  "Arnhem",
  "Enschede",
  "Zaandam",
  "Amersfoort",
  "'s-Hertogenbosch",
  "Zwolle",
  "Leeuwarden",
  "Maastricht",
  "Dordrecht",
  "Zoetermeer",
  "Heerlen",
  "Delft",
  "Deventer",
  "Sittard-Geleen",
  "Hoorn",
  "Roermond",
  "Venlo",
  "Gouda",
  "Alkmaar",
  "Emmen",
];
const kinds = [
  "Ziekenhuis",
  "Medisch Centrum",
  "St. Jansdal",
  "Radiologie",
  "Zorggroep",
  "Kliniek",
  "Gezondheidscentrum Één",
  "Zuijderzorg",
];

const ca = await createTestCa();
const now = new Date();
const cert = await ca.issue({
  commonName: "bench gateway",
  use: "both",
  notBefore: new Date(now.getTime() - 86_400_000),
  notAfter: new Date(now.getTime() + 365 * 86_400_000),
});
const names: string[] = [];
const resources = [];
for (let n = 0; n < entries; n++) {
  const city = cities[n % cities.length];
  const name = `${kinds[n % kinds.length]} ${city} ${n}`;
  names.push(name);
  resources.push(...organisation({
    id: `org${n}`,
    ura: String(10_000_000 + n),
    name,
    city,
    endpoints: [{
      id: `ep${n}`,
      address: `gw${n}@zorg${n}.example`,
      formats: ["xdm"],
      maxMessageBytes: 20_000_000,
      certificates: [{ der: cert.der }],
    }],
  }));
}
const server = startFhirTestServer({
  port,
  resources,
  lastUpdated: new Date(now.getTime() - 3600_000),
});
const dir = await Deno.makeTempDir({ prefix: "beeldpoort-bench-addressbook-" });
const database = openDatabase({ kind: "sqlite", path: join(dir, "bench.db") });
await migrateToLatest(database);
const book = createAddressBook({
  db: database.db,
  sources: [fhirSource({ baseUrl: server.baseUrl, pageSize: 500 })],
  log: createLogger({ level: "warn" }),
});
try {
  let t = performance.now();
  const [full] = await book.sync({ full: true });
  const fullMs = performance.now() - t;
  if (full.status !== "ok" || full.added !== entries) {
    throw new Error(`full sync: ${JSON.stringify(full)}`);
  }
  t = performance.now();
  const [again] = await book.sync({ full: true });
  const unchangedFullMs = performance.now() - t;
  t = performance.now();
  const [incremental] = await book.sync();
  const incrementalMs = performance.now() - t;

  // First search builds the in-memory index from the database.
  t = performance.now();
  await book.search("warm-up");
  const indexMs = performance.now() - t;
  const samples: number[] = [];
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const n = (q * 7919) % entries;
    const city = cities[n % cities.length];
    const query = [
      names[n].split(" ").slice(0, 2).join(" "), // name prefix
      city, // city
      String(10_000_000 + n), // URA
      `sint jansdal ${city.slice(0, 4)}`, // St./Sint folding
      "zuyderzorg", // ij/y folding
      `ziekenhuis ${city.replace(/a/, "e")}`, // typo in a name token? (cities are not fuzzy)
      "medsch centrum", // typo
      `${n}`,
    ][q % 8];
    const s = performance.now();
    hits += (await book.search(query, { limit: 20 })).length;
    samples.push(performance.now() - s);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  const result = {
    bench: "addressbook",
    entries,
    fullSyncMs: Math.round(fullMs),
    unchangedFullSyncMs: Math.round(unchangedFullMs),
    incrementalNoChangeMs: Math.round(incrementalMs),
    indexBuildMs: Math.round(indexMs),
    queries,
    searchP50Ms: Number(pct(0.5).toFixed(2)),
    searchP95Ms: Number(pct(0.95).toFixed(2)),
    searchMaxMs: Number(samples[samples.length - 1].toFixed(2)),
    meanHits: Number((hits / queries).toFixed(1)),
    unchangedChanged: again.changed,
    incrementalMode: incremental.mode,
  };
  console.log(
    `full sync of ${entries}: ${result.fullSyncMs} ms; search p50 ${result.searchP50Ms} ms, p95 ${result.searchP95Ms} ms`,
  );
  console.log(JSON.stringify(result));
} finally {
  await book.stop();
  await server.close();
  await database.close();
  await Deno.remove(dir, { recursive: true });
  await ca.cleanup();
}
