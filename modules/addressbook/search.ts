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

interface Indexed<T> {
  document: SearchDocument<T>;
  name: string[];
  city: string[];
  department: string[];
}

/** An index over documents; rebuild it after a sync. */
export interface SearchIndex<T> {
  search(text: string, limit: number): T[];
  readonly size: number;
}

/**
 * Builds a search index. A query matches when every query token matches a token of the name, city
 * or a department (exactly, as prefix, or - on names - within a small edit distance); an exact URA
 * or AGB matches directly. Results are ordered by score, then by name.
 */
export function createSearchIndex<T>(documents: SearchDocument<T>[]): SearchIndex<T> {
  const indexed: Indexed<T>[] = documents.map((document) => ({
    document,
    name: foldTokens(document.name),
    city: foldTokens(document.city ?? ""),
    department: document.departments.flatMap(foldTokens),
  }));
  return {
    size: indexed.length,
    search(text, limit) {
      const query = text.trim();
      if (!query) return [];
      const digits = query.replace(/\s+/g, "");
      if (/^\d{8}$/.test(digits)) {
        const hits = indexed.filter((i) => i.document.ura === digits || i.document.agb === digits);
        if (hits.length > 0) return hits.slice(0, limit).map((i) => i.document.value);
      }
      const tokens = foldTokens(query);
      if (tokens.length === 0) return [];
      const scored: { item: Indexed<T>; score: number }[] = [];
      for (const item of indexed) {
        let total = 0;
        for (const q of tokens) {
          let best = 0;
          for (const t of item.name) best = Math.max(best, tokenScore(q, t, true) * 2);
          if (best < 8) {
            for (const t of item.city) best = Math.max(best, tokenScore(q, t, false));
            for (const t of item.department) best = Math.max(best, tokenScore(q, t, false));
          }
          if (best === 0 && item.document.ura.startsWith(q)) best = 3;
          if (best === 0) {
            total = 0;
            break;
          }
          total += best;
        }
        if (total > 0) scored.push({ item, score: total });
      }
      scored.sort((a, b) =>
        b.score - a.score || a.item.document.name.localeCompare(b.item.document.name)
      );
      return scored.slice(0, limit).map((s) => s.item.document.value);
    },
  };
}
