/**
 * The catalog and interaction contracts shared by the backend (ingest, feature store, sync) and the
 * device (IndexedDB, the recommender): one definition, so the two sides cannot drift apart.
 */

/** A catalog item as stored and synced (see the Catalog item contract in the design brief). */
export interface CatalogItem {
  /** Stable string id, unique within a catalog. */
  id: string;
  title: string;
  gender: string;
  /** Category path: master / sub / article type. */
  masterCategory: string;
  subCategory: string;
  articleType: string;
  colour: string;
  season?: string;
  year?: number;
  usage?: string;
  price?: number;
  description?: string;
  /**
   * One garment's key when the shop lists each colour (or other variant) as its own item: items
   * with the same value are variants of one product (e.g. H&M's `product_code`).
   */
  variantGroup?: string;
  /** Path of the product photo relative to the catalog folder, when there is one. */
  image?: string;
  /** sha256 of the photo's bytes, set once ingest has read it: names its thumbnail and dedupes it. */
  imageSha256?: string;
  /**
   * Pixel size of the larger product-page rendition ingest kept beside the thumbnail (served as
   * `/v1/photos/<imageSha256>.webp`), set only when the photo is larger than its thumbnail.
   */
  rendition?: { width: number; height: number };
  /** Anything else the source had, as strings. */
  attributes: Record<string, string>;
}

export const INTERACTION_TYPES = ['view', 'click', 'like', 'add_to_cart', 'purchase'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** One shopper event (pseudonymous user id). */
export interface InteractionEvent {
  userId: string;
  itemId: string;
  type: InteractionType;
  /** Epoch milliseconds. */
  timestamp: number;
  weight?: number;
  /** What was paid per unit, when the log says (a catalog without prices takes them from here). */
  price?: number;
}
