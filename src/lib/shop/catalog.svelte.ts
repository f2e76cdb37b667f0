import type { CatalogItem } from '../../../models/catalog/item';

/** Values of one attribute with how many items carry each, most common first. */
export interface Facet {
  value: string;
  count: number;
}

export interface BrowseFilters {
  gender?: string;
  category?: string;
  colour?: string;
}

export function facetOf(items: readonly CatalogItem[], pick: (item: CatalogItem) => string): Facet[] {
  // Local scratch value, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const counts = new Map<string, number>();
  for (const item of items) {
    const value = pick(item);
    if (value) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}

/** Items matching every given filter (category matches the master category or the article type). */
export function filterItems(items: readonly CatalogItem[], filters: BrowseFilters): CatalogItem[] {
  return items.filter(
    (item) =>
      (!filters.gender || item.gender === filters.gender) &&
      (!filters.category || item.masterCategory === filters.category || item.articleType === filters.category) &&
      (!filters.colour || item.colour === filters.colour),
  );
}

/** URL of an item's thumbnail, served content-addressed by the backend (and cached offline). */
export function thumbnailUrl(item: Pick<CatalogItem, 'imageSha256'>): string | undefined {
  return item.imageSha256 ? `/v1/thumbs/${item.imageSha256}.webp` : undefined;
}

/**
 * URL of the item's larger product-page rendition, when ingest kept one (photos larger than the
 * thumbnail); the page falls back to the thumbnail otherwise.
 */
export function renditionUrl(item: Pick<CatalogItem, 'imageSha256' | 'rendition'>): string | undefined {
  return item.imageSha256 && item.rendition ? `/v1/photos/${item.imageSha256}.webp` : undefined;
}

/** Items by variant group (an index over one catalog version, in catalog order). */
export function groupVariants(items: readonly CatalogItem[]): Map<string, CatalogItem[]> {
  // A plain index rebuilt with each catalog, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const groups = new Map<string, CatalogItem[]>();
  for (const item of items) {
    if (item.variantGroup === undefined) continue;
    const group = groups.get(item.variantGroup);
    if (group) group.push(item);
    else groups.set(item.variantGroup, [item]);
  }
  return groups;
}

/** The synced catalog as the screens read it (the worker holds its own copy for ranking). */
class CatalogState {
  items = $state.raw<CatalogItem[]>([]);
  version = $state<number | undefined>(undefined);
  private index = new Map<string, CatalogItem>();
  /** Built on first use: most visits never open a product with variants. */
  private variants: Map<string, CatalogItem[]> | undefined;

  get loaded(): boolean {
    return this.version !== undefined;
  }

  set(version: number, items: CatalogItem[]): void {
    if (this.version === version && this.items === items) return;
    this.index = new Map(items.map((item) => [item.id, item]));
    this.variants = undefined;
    this.items = items;
    this.version = version;
  }

  get(id: string): CatalogItem | undefined {
    // Reading `items` makes callers re-run when a new catalog arrives.
    void this.items;
    return this.index.get(id);
  }

  /** The other items of the item's variant group (its other colours), in catalog order; [] without a group. */
  siblings(item: CatalogItem): CatalogItem[] {
    void this.items;
    if (item.variantGroup === undefined) return [];
    this.variants ??= groupVariants(this.items);
    return (this.variants.get(item.variantGroup) ?? []).filter((other) => other.id !== item.id);
  }

  /** Known items among `ids`, in order (ids no longer in the catalog are skipped). */
  pick(ids: readonly string[]): CatalogItem[] {
    return ids.map((id) => this.get(id)).filter((item): item is CatalogItem => item !== undefined);
  }

  reset(): void {
    this.index = new Map();
    this.variants = undefined;
    this.items = [];
    this.version = undefined;
  }
}

export const catalog = new CatalogState();
