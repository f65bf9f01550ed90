/**
 * Fuzzy search over the address book, in memory: 5,000 organisations fold to a few hundred KB of
 * tokens and a query scans them in milliseconds, without a full-text extension in SQLite.
 */

// Dutch spelling variants that name the same organisation: "St." and "Sint", "ij" and "y"
// (Zuyderland / Zuijderland), "'s-Hertogenbosch" and "s hertogenbosch".
const tokenAliases: Record<string, string> = {
  st: "sint",
  "st.": "sint",
  stg: "stichting",
  zkh: "ziekenhuis",
};

/**
 * Folds text for comparison: lower case, diacritics removed (NFD), "ij" as "y", punctuation to
 * spaces, and common abbreviations spelled out. Returns the tokens.
 *
 * @example
 * ```ts
 * foldTokens("St. Antonius Ziekenhuis"); // ["sint", "antonius", "ziekenhuis"]
 * ```
 */
export function foldTokens(text: string): string[] {
  const folded = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/ij/g, "y");
  const tokens: string[] = [];
  for (const raw of folded.split(/[^a-z0-9.@]+/)) {
    const token = tokenAliases[raw] ?? raw.replace(/\./g, "");
    if (token) tokens.push(token);
  }
  return tokens;
}

/** Levenshtein distance, giving up (returning max + 1) once it exceeds `max`. */
function distanceWithin(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length];
}

/** How well one query token matches one field token: 0 when not at all. */
function tokenScore(query: string, token: string, fuzzy: boolean): number {
  if (token === query) return 4;
  if (token.startsWith(query)) return 3;
  if (!fuzzy || query.length < 4) return 0;
  // One typo per four letters, at most two: "zuiderland" still finds "zuyderland".
  const max = Math.min(2, Math.floor(query.length / 4));
  if (distanceWithin(query, token, max) <= max) return 1;
  // A fuzzy prefix: "zuiderl" for "zuyderland" while the user is still typing.
  if (
    token.length > query.length && distanceWithin(query, token.slice(0, query.length), max) <= max
  ) {
    return 1;
  }
  return 0;
}

/** The searchable fields of one entry. */
export interface SearchDocument<T> {
  value: T;
  ura: string;
  agb?: string;
  name: string;
  city?: string;
  departments: string[];
}

/** An index over documents; rebuild it after a sync. */
export interface SearchIndex<T> {
  search(text: string, limit: number): T[];
  readonly size: number;
}

interface Postings {
  /** Documents with this token in their name (fuzzy matching applies). */
  name: number[];
  /** Documents with this token in city, department, URA or AGB (exact or prefix only). */
  other: number[];
}

/**
 * Builds a search index: an inverted index from folded tokens to documents, so a query compares
 * itself with each distinct token once instead of with every document. A query matches when every
 * query token matches a token of the name (exactly, as prefix, or within a small edit distance),
 * or of the city, a department, the URA or the AGB (exactly or as prefix). Results are ordered by
 * score, then by name.
 */
export function createSearchIndex<T>(documents: SearchDocument<T>[]): SearchIndex<T> {
  const collator = new Intl.Collator("nl");
  const order = documents.map((_, i) => i)
    .sort((a, b) => collator.compare(documents[a].name, documents[b].name));
  const rank = new Uint32Array(documents.length);
  order.forEach((doc, position) => (rank[doc] = position));
  const vocabulary = new Map<string, Postings>();
  const add = (token: string, doc: number, field: keyof Postings) => {
    let postings = vocabulary.get(token);
    if (!postings) vocabulary.set(token, postings = { name: [], other: [] });
    const list = postings[field];
    if (list[list.length - 1] !== doc) list.push(doc);
  };
  documents.forEach((d, doc) => {
    for (const t of foldTokens(d.name)) add(t, doc, "name");
    for (const t of foldTokens(d.city ?? "")) add(t, doc, "other");
    for (const dep of d.departments) for (const t of foldTokens(dep)) add(t, doc, "other");
    add(d.ura, doc, "other");
    if (d.agb) add(d.agb, doc, "other");
  });
  const entries = [...vocabulary.entries()];
  return {
    size: documents.length,
    search(text, limit) {
      const tokens = foldTokens(text);
      if (tokens.length === 0 || limit <= 0) return [];
      let totals: Float64Array | undefined;
      for (const q of tokens) {
        const best = new Float64Array(documents.length);
        for (const [token, postings] of entries) {
          if (postings.name.length > 0) {
            const score = tokenScore(q, token, true) * 2;
            if (score > 0) { for (const d of postings.name) if (score > best[d]) best[d] = score; }
          }
          if (postings.other.length > 0) {
            const score = tokenScore(q, token, false);
            if (score > 0) { for (const d of postings.other) if (score > best[d]) best[d] = score; }
          }
        }
        if (!totals) totals = best;
        else {for (let d = 0; d < best.length; d++) {
            totals[d] = best[d] > 0 ? totals[d] + best[d] : 0;
          }}
      }
      const hits: number[] = [];
      for (let d = 0; d < totals!.length; d++) if (totals![d] > 0) hits.push(d);
      hits.sort((a, b) => totals![b] - totals![a] || rank[a] - rank[b]);
      return hits.slice(0, limit).map((d) => documents[d].value);
    },
  };
}
