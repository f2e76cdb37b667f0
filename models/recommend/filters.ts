/**
 * Hard filters over the engine's items: categorical attributes are coded once into Int32Arrays so a
 * request's filter becomes a uint8 mask in one pass over the catalog, with no string compares.
 */
import type { CatalogItem } from '../catalog/item';
import type { ItemFilters } from './types';

/** The catalog fields the engine reads, per item. */
export type EngineItem = Pick<CatalogItem, 'id' | 'title' | 'gender' | 'masterCategory' | 'subCategory' | 'articleType' | 'colour' | 'season' | 'year' | 'usage' | 'variantGroup'>;

/** The attributes a filter can name, and the request field that names them. */
const FILTER_FIELDS = {
  genders: 'gender',
  masterCategories: 'masterCategory',
  articleTypes: 'articleType',
  colours: 'colour',
} as const;
type FilterField = keyof typeof FILTER_FIELDS;

/** One categorical attribute, coded: codes[i] is the index of item i's value in `values`. */
export interface CodedAttribute {
  values: string[];
  index: Map<string, number>;
  codes: Int32Array;
}

export function codeAttribute(items: readonly (EngineItem | undefined)[], field: (typeof FILTER_FIELDS)[FilterField]): CodedAttribute {
  const index = new Map<string, number>();
  const values: string[] = [];
  const codes = new Int32Array(items.length).fill(-1);
  items.forEach((item, i) => {
    if (item === undefined) return;
    const value = item[field];
    let code = index.get(value);
    if (code === undefined) {
      code = values.length;
      index.set(value, code);
      values.push(value);
    }
    codes[i] = code;
  });
  return { values, index, codes };
}

export type CodedAttributes = Record<FilterField, CodedAttribute>;

export function codeAttributes(items: readonly (EngineItem | undefined)[]): CodedAttributes {
  return {
    genders: codeAttribute(items, 'gender'),
    masterCategories: codeAttribute(items, 'masterCategory'),
    articleTypes: codeAttribute(items, 'articleType'),
    colours: codeAttribute(items, 'colour'),
  };
}

/**
 * Checks a filter object from an untrusted caller (it crosses the worker boundary) and returns it
 * normalised: every list an array of strings, flags booleans. Errors name the field.
 */
export function validateFilters(filters: unknown, where: string): ItemFilters {
  if (filters === undefined || filters === null) return {};
  if (typeof filters !== 'object' || Array.isArray(filters)) throw new Error(`${where}: filters must be an object`);
  const f = filters as Record<string, unknown>;
  const known = new Set([...Object.keys(FILTER_FIELDS), 'excludePurchased', 'excludeItemIds']);
  for (const key of Object.keys(f)) {
    if (!known.has(key)) throw new Error(`${where}: unknown filter "${key}" (known: ${[...known].join(', ')})`);
  }
  const out: ItemFilters = {};
  for (const key of [...Object.keys(FILTER_FIELDS), 'excludeItemIds'] as (FilterField | 'excludeItemIds')[]) {
    const value = f[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw new Error(`${where}: filters.${key} must be an array of strings`);
    }
    out[key] = value as string[];
  }
  if (f.excludePurchased !== undefined) {
    if (typeof f.excludePurchased !== 'boolean') throw new Error(`${where}: filters.excludePurchased must be a boolean`);
    out.excludePurchased = f.excludePurchased;
  }
  return out;
}

/** True when the filter restricts attributes (not only excluding a few ids). */
export function hasAttributeFilter(filters: ItemFilters): boolean {
  return (Object.keys(FILTER_FIELDS) as FilterField[]).some((key) => filters[key] !== undefined);
}

/**
 * The allowed mask of the attribute filters: 1 where an item matches every given list ("any of"
 * within a list), 0 elsewhere and for `dead` items (in the pack, not in the catalog). A value
 * no item has matches nothing (the catalog may have changed under a saved filter).
 *
 * @returns shape [items], uint8; a fresh array the caller may modify.
 */
export function attributeMask(coded: CodedAttributes, filters: ItemFilters, alive: Uint8Array): Uint8Array {
  const mask = Uint8Array.from(alive);
  for (const key of Object.keys(FILTER_FIELDS) as FilterField[]) {
    const wanted = filters[key];
    if (wanted === undefined) continue;
    const attribute = coded[key];
    const ok = new Uint8Array(attribute.values.length);
    for (const value of wanted) {
      const code = attribute.index.get(value);
      if (code !== undefined) ok[code] = 1;
    }
    const codes = attribute.codes;
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0 && (codes[i]! < 0 || ok[codes[i]!] === 0)) mask[i] = 0;
  }
  return mask;
}

/** A stable string for a normalised filter (cache keys): list order and duplicates do not matter. */
export function filtersKey(filters: ItemFilters): string {
  const parts: string[] = [];
  for (const key of [...Object.keys(FILTER_FIELDS), 'excludeItemIds'] as (FilterField | 'excludeItemIds')[]) {
    const list = filters[key];
    if (list !== undefined) parts.push(`${key}=${JSON.stringify([...new Set(list)].sort())}`);
  }
  if (filters.excludePurchased !== undefined) parts.push(`excludePurchased=${filters.excludePurchased}`);
  return parts.join('&');
}
