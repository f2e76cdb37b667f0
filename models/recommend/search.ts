/**
 * Keyword search over titles and attributes with MiniSearch (BM25+, prefix and fuzzy matching):
 * "red dres" finds red dresses, "watsh" finds watches. All query words must match; when that leaves
 * too few results the any-word matches follow, at half their score. The engine blends these keyword
 * scores with the content model's query vector.
 */
import MiniSearch from 'minisearch';
import type { EngineItem } from './filters';

/** The attributes searched besides the title, joined into one field (one posting list per word, not per field). */
const ATTRIBUTES = ['articleType', 'subCategory', 'masterCategory', 'colour', 'gender', 'usage', 'season', 'year'] as const;

interface Doc {
  row: number;
  title: string;
  attributes: string;
}

export interface KeywordHits {
  /** Item rows, best first, shape [n], int32. */
  rows: Int32Array;
  /** Keyword scores scaled so the best hit is 1, shape [n]. */
  scores: Float64Array;
}

export class KeywordIndex {
  private readonly index: MiniSearch<Doc>;

  /** Indexes every defined item by its row; `undefined` rows (not in the catalog) are left out. */
  constructor(items: readonly (EngineItem | undefined)[]) {
    this.index = new MiniSearch<Doc>({
      idField: 'row',
      fields: ['title', 'attributes'],
      searchOptions: {
        boost: { title: 2 },
        // Only the last word is a prefix (it may be half typed); earlier words are whole.
        prefix: (_term, i, terms) => i === terms.length - 1,
        // One typo in words of five letters or more; short words fuzzily match too much.
        fuzzy: (term) => (term.length >= 5 ? 1 : false),
        weights: { prefix: 0.5, fuzzy: 0.3 },
      },
    });
    const docs: Doc[] = [];
    items.forEach((item, row) => {
      if (item === undefined) return;
      const attributes = ATTRIBUTES.map((field) => item[field])
        .filter((v) => v !== undefined && v !== '')
        .join(' ');
      docs.push({ row, title: item.title, attributes });
    });
    this.index.addAll(docs);
  }

  /**
   * Up to `limit` hits for a free-text query (none for a query with no words). Cheapest first:
   * every word exactly or as a prefix; then with one typo allowed; then any word at half score,
   * each step only while fewer than `enough` items matched.
   */
  search(query: string, limit: number, enough = limit, allowed?: Uint8Array): KeywordHits {
    const filter = allowed && ((r: { id: unknown }) => allowed[r.id as number] !== 0);
    let results = this.index.search(query, { combineWith: 'AND', fuzzy: false, filter });
    if (results.length < enough) results = this.index.search(query, { combineWith: 'AND', filter });
    let hits = results.map((r) => ({ row: r.id as number, score: r.score }));
    if (hits.length < enough) {
      const seen = new Set(hits.map((h) => h.row));
      const extra = this.index
        .search(query, { combineWith: 'OR', filter })
        .filter((r) => !seen.has(r.id as number))
        .map((r) => ({ row: r.id as number, score: r.score / 2 }));
      hits = hits.concat(extra).sort((a, b) => b.score - a.score || a.row - b.row);
    }
    hits = hits.slice(0, limit);
    const top = hits[0]?.score ?? 1;
    return { rows: Int32Array.from(hits, (h) => h.row), scores: Float64Array.from(hits, (h) => h.score / top) };
  }
}

/**
 * Splits the catalog's gender and colour values out of a query ("black formal shoes men" →
 * "formal shoes", Black, Men): they become filters rather than keywords, because a word on a large
 * share of the catalog's titles costs the keyword search most of its time (MiniSearch scores every
 * posting) and a shopper who types a colour or a gender means it. Men and Women also take Unisex
 * items; a colour word also takes the multi-word colours that contain it ("blue" → Navy Blue).
 * A query made only of such words is left as it is.
 */
export function splitFilterWords(query: string, values: { genders: readonly string[]; colours: readonly string[] }): { text: string; genders: string[]; colours: string[] } {
  const norm = (w: string) => w.toLowerCase().replace(/[^a-z0-9]/g, '');
  const words = query.split(/\s+/).map(norm).filter((w) => w !== '');
  const genderOf = new Map(values.genders.map((g) => [norm(g), g]));
  const colourWords = values.colours.map((c) => ({ value: c, words: c.split(/\s+/).map(norm).filter((w) => w !== '') })).filter((c) => c.words.length > 0);
  // Longest colour names first, so "navy blue" is taken whole before "blue".
  colourWords.sort((a, b) => b.words.length - a.words.length);
  const genders = new Set<string>();
  const colours = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < words.length; ) {
    const phrase = colourWords.find((c) => c.words.length > 1 && c.words.every((w, k) => words[i + k] === w));
    if (phrase) {
      colours.add(phrase.value);
      i += phrase.words.length;
      continue;
    }
    const w = words[i]!;
    const gender = genderOf.get(w);
    const single = colourWords.filter((c) => c.words.includes(w));
    if (gender !== undefined) genders.add(gender);
    else if (single.some((c) => c.words.length === 1)) for (const c of single) colours.add(c.value);
    else rest.push(w);
    i++;
  }
  if (rest.length === 0 || (genders.size === 0 && colours.size === 0)) return { text: query, genders: [], colours: [] };
  const unisex = genderOf.get('unisex');
  if (unisex !== undefined && (genders.has(genderOf.get('men') ?? '') || genders.has(genderOf.get('women') ?? ''))) genders.add(unisex);
  return { text: rest.join(' '), genders: [...genders], colours: [...colours] };
}
