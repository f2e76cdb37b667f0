/**
 * Keyword search over titles and attributes with MiniSearch (BM25+, prefix and fuzzy matching):
 * "red dres" finds red dresses. All query words must match; when that leaves too few results the
 * any-word matches follow, at half their score. The engine blends these keyword scores with the
 * content model's query vector.
 */
import MiniSearch from 'minisearch';
import type { EngineItem } from './filters';

const FIELDS = ['title', 'articleType', 'subCategory', 'masterCategory', 'colour', 'gender', 'usage', 'season', 'year'] as const;

export interface KeywordHits {
  /** Item rows, best first, shape [n], int32. */
  rows: Int32Array;
  /** Keyword scores scaled so the best hit is 1, shape [n]. */
  scores: Float64Array;
}

export class KeywordIndex {
  private readonly index: MiniSearch<{ row: number } & Partial<EngineItem>>;

  /** Indexes every defined item by its row; `undefined` rows (not in the catalog) are left out. */
  constructor(items: readonly (EngineItem | undefined)[]) {
    this.index = new MiniSearch<{ row: number } & Partial<EngineItem>>({
      idField: 'row',
      fields: [...FIELDS],
      extractField: (doc, field) => {
        const value = (doc as Record<string, unknown>)[field];
        return value === undefined || value === null ? '' : String(value);
      },
      searchOptions: {
        boost: { title: 2, articleType: 1.5, colour: 1.5 },
        prefix: true,
        // One typo in words of five letters or more; short words fuzzily match too much.
        fuzzy: (term) => (term.length >= 5 ? 1 : false),
        weights: { prefix: 0.5, fuzzy: 0.3 },
      },
    });
    const docs: ({ row: number } & EngineItem)[] = [];
    items.forEach((item, row) => {
      if (item !== undefined) docs.push({ ...item, row });
    });
    this.index.addAll(docs);
  }

  /** Up to `limit` hits for a free-text query; none for a query with no words. */
  search(query: string, limit: number): KeywordHits {
    const all = this.index.search(query, { combineWith: 'AND' });
    let hits = all.map((r) => ({ row: r.id as number, score: r.score }));
    if (hits.length < limit) {
      const seen = new Set(hits.map((h) => h.row));
      const extra = this.index
        .search(query, { combineWith: 'OR' })
        .filter((r) => !seen.has(r.id as number))
        .map((r) => ({ row: r.id as number, score: r.score / 2 }));
      hits = hits.concat(extra).sort((a, b) => b.score - a.score || a.row - b.row);
    }
    hits = hits.slice(0, limit);
    const top = hits[0]?.score ?? 1;
    return { rows: Int32Array.from(hits, (h) => h.row), scores: Float64Array.from(hits, (h) => h.score / top) };
  }
}
