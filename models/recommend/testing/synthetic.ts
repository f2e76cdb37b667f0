/**
 * Synthetic catalogs and ranker packs of any size, for the engine's benchmarks (35k, 100k, 1M
 * items): titles and attributes drawn from fashion-like pools, and item vectors clustered by article
 * type and colour as trained ones are, so top-K, filters, MMR and search do realistic work.
 * Not data for quality figures: timings and memory only.
 */
import { SeededRandom } from '../../random';
import type { EngineItem, LoadedPack, QueryEmbedder } from '../engine';
import { RANKER_PACK_FORMAT } from '../pack';

const GENDERS = ['Men', 'Women', 'Unisex', 'Boys', 'Girls'];
const ARTICLES: [master: string, sub: string, type: string][] = [
  ['Apparel', 'Topwear', 'Tshirts'], ['Apparel', 'Topwear', 'Shirts'], ['Apparel', 'Topwear', 'Tops'], ['Apparel', 'Topwear', 'Kurtas'],
  ['Apparel', 'Topwear', 'Sweatshirts'], ['Apparel', 'Topwear', 'Jackets'], ['Apparel', 'Bottomwear', 'Jeans'], ['Apparel', 'Bottomwear', 'Trousers'],
  ['Apparel', 'Bottomwear', 'Shorts'], ['Apparel', 'Bottomwear', 'Skirts'], ['Apparel', 'Dress', 'Dresses'], ['Apparel', 'Innerwear', 'Briefs'],
  ['Apparel', 'Saree', 'Sarees'], ['Footwear', 'Shoes', 'Casual Shoes'], ['Footwear', 'Shoes', 'Sports Shoes'], ['Footwear', 'Shoes', 'Formal Shoes'],
  ['Footwear', 'Shoes', 'Heels'], ['Footwear', 'Flip Flops', 'Flip Flops'], ['Footwear', 'Sandal', 'Sandals'], ['Accessories', 'Watches', 'Watches'],
  ['Accessories', 'Bags', 'Handbags'], ['Accessories', 'Bags', 'Backpacks'], ['Accessories', 'Belts', 'Belts'], ['Accessories', 'Eyewear', 'Sunglasses'],
  ['Accessories', 'Wallets', 'Wallets'], ['Accessories', 'Jewellery', 'Earrings'], ['Accessories', 'Socks', 'Socks'], ['Personal Care', 'Fragrance', 'Perfume and Body Mist'],
];
const COLOURS = ['Black', 'White', 'Blue', 'Navy Blue', 'Grey', 'Red', 'Green', 'Brown', 'Pink', 'Purple', 'Yellow', 'Beige', 'Maroon', 'Olive', 'Orange', 'Silver', 'Gold', 'Teal', 'Cream', 'Charcoal'];
const USAGES = ['Casual', 'Formal', 'Sports', 'Ethnic', 'Party'];
const SEASONS = ['Summer', 'Fall', 'Winter', 'Spring'];
const BRANDS = ['Nike', 'Puma', 'Adidas', 'Roadster', 'Wrangler', 'Levis', 'Fossil', 'Titan', 'Fastrack', 'Catwalk', 'Biba', 'Fabindia', 'Reebok', 'Lotto', 'Baggit', 'Lavie', 'Jealous', 'Mango', 'United', 'Colors'];
const ADJECTIVES = ['Slim', 'Classic', 'Printed', 'Striped', 'Solid', 'Checked', 'Washed', 'Leather', 'Canvas', 'Cotton', 'Denim', 'Woven', 'Knit', 'Casual', 'Sporty', 'Vintage', 'Embroidered', 'Regular', 'Relaxed', 'Cropped'];

export interface SyntheticOptions {
  /** Hybrid factor dimensions (default 32, the trainer's default). */
  factors?: number;
  /** Image embedding dimensions (default 128, the image encoder's); 0 for none. */
  imageDim?: number;
  /** Content vector dimensions (default 64, the content model's); 0 for none. */
  contentDim?: number;
  seed?: number;
}

function gaussian(random: SeededRandom): number {
  const u = Math.max(random.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function centres(random: SeededRandom, count: number, dim: number): Float32Array {
  return Float32Array.from({ length: count * dim }, () => gaussian(random));
}

/**
 * `n` catalog rows, a matching decoded pack (matrices in row order of the rows) and a query
 * embedder in the pack's content space (a query's article-type and colour words map to the
 * centres the content vectors were drawn around).
 */
export function syntheticCatalog(n: number, options: SyntheticOptions = {}): { items: EngineItem[]; pack: LoadedPack; content: QueryEmbedder } {
  const f = options.factors ?? 32;
  const imageDim = options.imageDim ?? 128;
  const contentDim = options.contentDim ?? 64;
  const random = new SeededRandom(options.seed ?? 1);
  const typeF = centres(random, ARTICLES.length, f);
  const colourF = centres(random, COLOURS.length, f);
  const typeI = centres(random, ARTICLES.length, imageDim);
  const colourI = centres(random, COLOURS.length, imageDim);
  const typeC = centres(random, ARTICLES.length, contentDim);
  const colourC = centres(random, COLOURS.length, contentDim);
  const items: EngineItem[] = new Array<EngineItem>(n);
  const itemFactors = new Float32Array(n * f);
  const image = new Float32Array(n * imageDim);
  const contentVectors = new Float32Array(n * contentDim);
  const stats = new Float32Array(n * 3);
  const fill = (out: Float32Array, dim: number, row: number, t: Float32Array, ti: number, c: Float32Array, ci: number, scale: number) => {
    for (let a = 0; a < dim; a++) out[row * dim + a] = scale * (0.6 * t[ti * dim + a]! + 0.3 * c[ci * dim + a]! + 0.35 * gaussian(random));
  };
  for (let i = 0; i < n; i++) {
    // Article types and colours follow a skewed distribution, like a real catalog.
    const t = Math.min(ARTICLES.length - 1, Math.floor(ARTICLES.length * random.next() ** 1.7));
    const c = Math.min(COLOURS.length - 1, Math.floor(COLOURS.length * random.next() ** 1.5));
    const [master, sub, type] = ARTICLES[t]!;
    const colour = COLOURS[c]!;
    const year = 2010 + random.int(15);
    items[i] = {
      id: String(100_000 + i),
      title: `${BRANDS[random.int(BRANDS.length)]} ${GENDERS[random.int(2)] === 'Men' ? 'Men' : 'Women'} ${ADJECTIVES[random.int(ADJECTIVES.length)]} ${colour} ${type}`,
      gender: GENDERS[Math.min(GENDERS.length - 1, Math.floor(GENDERS.length * random.next() ** 2))]!,
      masterCategory: master,
      subCategory: sub,
      articleType: type,
      colour,
      season: SEASONS[random.int(SEASONS.length)]!,
      year,
      usage: USAGES[random.int(USAGES.length)]!,
    };
    fill(itemFactors, f, i, typeF, t, colourF, c, 0.3);
    if (imageDim > 0) fill(image, imageDim, i, typeI, t, colourI, c, 1);
    if (contentDim > 0) fill(contentVectors, contentDim, i, typeC, t, colourC, c, 1);
    // Popularity: log-scaled and heavy-tailed; trending: a sparse recent burst; freshness from the year.
    stats[i * 3] = Math.min(1, -Math.log(Math.max(random.next(), 1e-9)) / 12);
    stats[i * 3 + 1] = random.next() < 0.05 ? random.next() : 0;
    stats[i * 3 + 2] = (year - 2010) / 14;
  }
  const ids = items.map((item) => item.id);
  const pack: LoadedPack = {
    meta: {
      format: RANKER_PACK_FORMAT,
      catalog: { version: 1, contentHash: `synthetic-${n}` },
      itemIds: ids,
      itemFactors: { file: 'item-factors.q8', rows: n, cols: f, encoding: 'q8' },
      itemStats: { file: 'item-stats.f32', rows: n, cols: 3, encoding: 'f32', columns: ['popularity', 'trending', 'freshness'] },
      foldIn: {
        alpha: 2,
        regularization: 0.5,
        regularizationExponent: 0.5,
        eventWeights: { view: 1, click: 2, like: 4, add_to_cart: 6, purchase: 8 },
        halfLifeDays: 14,
      },
      rerank: {
        features: ['hybridScore', 'visualSim', 'contentSim', 'popularity', 'trending', 'freshness'],
        weights: [2.1, 0.8, 0.6, 0.5, 0.7, 0.2],
        bias: -1.3,
      },
      extra: { synthetic: true },
    },
    itemFactors,
    itemStats: stats,
  };
  if (imageDim > 0) {
    pack.meta.imageEmbeddings = { file: 'image-embeddings.q8', rows: n, cols: imageDim, encoding: 'q8', encoder: 'image-encoder@0' };
    pack.imageEmbeddings = image;
  }
  if (contentDim > 0) {
    pack.meta.contentVectors = { file: 'content.q8', rows: n, cols: contentDim, encoding: 'q8' };
    pack.contentVectors = contentVectors;
  }
  const queries: QueryEmbedder = {
    dim: contentDim,
    embedQuery(text) {
      const v = new Float32Array(contentDim);
      const words = text.toLowerCase().split(/\W+/).filter((w) => w.length > 1);
      const add = (centre: Float32Array, k: number) => {
        for (let a = 0; a < contentDim; a++) v[a]! += centre[k * contentDim + a]!;
      };
      ARTICLES.forEach(([, , type], k) => {
        if (words.some((w) => type.toLowerCase().includes(w))) add(typeC, k);
      });
      COLOURS.forEach((colour, k) => {
        if (words.some((w) => colour.toLowerCase() === w)) add(colourC, k);
      });
      return v;
    },
  };
  return { items, pack, content: queries };
}

/** A random history of `length` events over `n` items ending at `now` (a few per day). */
export function syntheticHistory(random: SeededRandom, ids: readonly string[], length: number, now: number): { itemId: string; type: 'view' | 'click' | 'like' | 'add_to_cart' | 'purchase'; at: number }[] {
  const types = ['view', 'view', 'view', 'click', 'like', 'add_to_cart', 'purchase'] as const;
  return Array.from({ length }, (_, h) => ({
    itemId: ids[random.int(ids.length)]!,
    type: types[random.int(types.length)]!,
    at: now - (length - h) * 3_600_000 * 6,
  }));
}
