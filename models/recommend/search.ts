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
 * Splits the catalog's gender values out of a query ("sports shoes men" → "sports shoes" and
 * Men): they become a filter rather than keywords, because a word on half the catalog's titles
 * costs the keyword search most of its time and tells its ranking almost nothing. Men and Women
 * also take Unisex items. A query of gender words only is left as it is.
 */
export function splitGenderWords(query: string, genders: readonly string[]): { text: string; genders: string[] } {
  const byWord = new Map(genders.map((g) => [g.toLowerCase(), g]));
  const words = query.split(/\s+/).filter((w) => w !== '');
  const found = new Set<string>();
  const rest = words.filter((w) => {
    const g = byWord.get(w.toLowerCase().replace(/[^a-z]/g, ''));
    if (g === undefined) return true;
    found.add(g);
    return false;
  });
  if (found.size === 0 || rest.length === 0) return { text: query, genders: [] };
  if ((found.has(byWord.get('men') ?? '') || found.has(byWord.get('women') ?? '')) && byWord.has('unisex')) found.add(byWord.get('unisex')!);
  return { text: rest.join(' '), genders: [...found] };
}
