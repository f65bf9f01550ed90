import assert from "node:assert/strict";
import { foldTokens, parseUziIdentity } from "../../modules/addressbook/mod.ts";
import { createSearchIndex } from "../../modules/addressbook/search.ts";

Deno.test("folding: diacritics, St./Sint, ij/y, punctuation", () => {
  assert.deepEqual(foldTokens("St. Antonius Ziekenhuis"), ["sint", "antonius", "ziekenhuis"]);
  assert.deepEqual(foldTokens("Sint Antonius"), ["sint", "antonius"]);
  assert.deepEqual(foldTokens("Zuijderland"), foldTokens("Zuyderland"));
  assert.deepEqual(foldTokens("Ziekenhuis Één"), ["ziekenhuis", "een"]);
  assert.deepEqual(foldTokens("'s-Hertogenbosch"), ["s", "hertogenbosch"]);
  assert.deepEqual(foldTokens("Curaçao Medical Center"), ["curacao", "medical", "center"]);
});

Deno.test("search index: prefix, fuzzy on names only, URA exact, ordered by score then name", () => {
  const docs = [
    {
      ura: "00000001",
      name: "Sint Maartenskliniek",
      city: "Nijmegen",
      departments: ["Radiologie"],
    },
    { ura: "00000002", name: "Maasstad Ziekenhuis", city: "Rotterdam", departments: [] },
    { ura: "00000003", name: "Maxima MC", city: "Eindhoven", departments: [] },
    { ura: "00000004", name: "Máxima Medisch Centrum", city: "Veldhoven", departments: [] },
  ].map((d) => ({ ...d, value: d.ura }));
  const index = createSearchIndex(docs);
  assert.deepEqual(index.search("st maartens", 10), ["00000001"]);
  assert.deepEqual(index.search("maxima", 10), ["00000003", "00000004"]);
  assert.deepEqual(index.search("maxima veldhoven", 10), ["00000004"]);
  assert.deepEqual(index.search("maasstadt", 10), ["00000002"]); // one typo
  assert.deepEqual(index.search("nijmegn", 10), []); // no fuzzy on cities
  assert.deepEqual(index.search("00000003", 10), ["00000003"]);
  assert.deepEqual(index.search("radiologie nijmegen", 10), ["00000001"]);
  assert.deepEqual(index.search("  ", 10), []);
  assert.deepEqual(index.search("m", 1).length, 1);
});

Deno.test("UZI identity: the URA is field 5 of otherName 2.5.5.5; other strings are not UZI", () => {
  assert.deepEqual(
    parseUziIdentity("2.16.528.1.1003.1.3.5.5.5-1-12345678-S-90000123-00.000-00000000"),
    {
      oidCa: "2.16.528.1.1003.1.3.5.5.5",
      version: "1",
      uziNumber: "12345678",
      cardType: "S",
      ura: "90000123",
      role: "00.000",
      agb: "00000000",
    },
  );
  assert.equal(parseUziIdentity("1.2.3-1-12345678-S-90000123-00.000-00000000"), undefined);
  assert.equal(parseUziIdentity("2.16.528.1.1003.1.3.5.5.5-1-12345678"), undefined);
});
