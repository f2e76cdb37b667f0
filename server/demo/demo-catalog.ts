/**
 * The demo data a fresh clone runs on: a small **generated** catalog in the Kaggle *Fashion Product
 * Images* layout (`styles.csv` + `images/<id>.jpg`), so the normal ingest path reads it, and the
 * events of simulated shoppers. Nothing in it is a real product or a real person, and every file
 * says so (titles start with "Demo", README.txt explains the rest).
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { ARTICLES, COLOUR_NAMES, DEMO_COLOURS, DEMO_SEASONS, SEASON_WEIGHTS } from './articles';
import type { ArticleSpec, DemoColour, DemoGender } from './articles';
import { pictureVariation, renderPicture } from './pictures';
import type { PictureVariation } from './pictures';
import { createRandom } from './random';
import { simulateShoppers } from './shoppers';
import type { Persona } from './shoppers';
import type { InteractionType } from '../ingest/types';

/** The ten columns of the Kaggle `styles.csv`, in order. */
export const STYLES_COLUMNS = ['id', 'gender', 'masterCategory', 'subCategory', 'articleType', 'baseColour', 'season', 'year', 'usage', 'productDisplayName'] as const;

export const DEMO_DEFAULTS = { items: 400, shoppers: 60, seed: 42 } as const;
/** Simulated events start at this UTC day and run for {@link DEMO_DAYS} days. */
export const DEMO_START = Date.UTC(2024, 0, 1);
export const DEMO_DAYS = 60;
/** Demo ids start above the real catalog's (whose ids stay under 60,000). */
const FIRST_ID = 900_001;

export interface DemoCatalogOptions {
  /** Catalog rows (default 400). */
  items?: number;
  /** Simulated shoppers (default 60). */
  shoppers?: number;
  /** Same seed, same bytes in every file (default 42). */
  seed?: number;
}

export interface DemoCatalogResult {
  /** `outDir/styles.csv`. */
  stylesCsv: string;
  /** `outDir/images`, one `<id>.jpg` per item that has a photo. */
  imagesDir: string;
  /** `outDir/interactions.csv`: `user,item,type,timestamp,weight` (ISO-8601 UTC timestamps). */
  interactionsCsv: string;
  /** `outDir/personas.json`: each simulated shopper's preferences (the ground truth). */
  personasJson: string;
  /** `outDir/README.txt`: says the data is generated and what is in it. */
  readme: string;
  /** Catalog rows written. */
  items: number;
  /** Photos written (rows without a photo on purpose are left out). */
  images: number;
  /** Interaction rows written. */
  events: number;
  eventsByType: Record<InteractionType, number>;
  /** Ids listed again with a byte-identical photo, as colour or size variants are in the real data. */
  duplicatePhotoIds: string[][];
  /** Ids that deliberately have no photo file. */
  missingPhotoIds: string[];
}

interface DemoItem {
  id: string;
  gender: DemoGender;
  spec: ArticleSpec;
  colour: DemoColour;
  season: string;
  year: number;
  usage: string;
  title: string;
  variation: PictureVariation;
  /** Id of the item whose photo this one repeats, byte for byte. */
  samePhotoAs?: string;
  hasPhoto: boolean;
}

function count(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`generateDemoCatalog: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function makeItems(seed: number, n: number): DemoItem[] {
  const random = createRandom(seed).fork('catalog');
  const typeWeights = ARTICLES.map((a) => a.weight);
  // Like the real data: about 2.5% of rows repeat the previous row's product and photo, about 1%
  // have no photo at all.
  const relisted = new Set<number>();
  const withoutPhoto = new Set<number>();
  const relistings = n >= 10 ? Math.max(2, Math.round(n * 0.025)) : 0;
  const missing = n >= 10 ? Math.max(1, Math.round(n * 0.01)) : 0;
  while (relisted.size < relistings) relisted.add(1 + random.int(n - 1));
  while (withoutPhoto.size < missing) {
    const i = random.int(n);
    if (!relisted.has(i) && !relisted.has(i + 1)) withoutPhoto.add(i);
  }

  const items: DemoItem[] = [];
  for (let i = 0; i < n; i++) {
    const id = String(FIRST_ID + i);
    const previous = items[i - 1];
    if (relisted.has(i) && previous) {
      items.push({ ...previous, id, samePhotoAs: previous.samePhotoAs ?? previous.id, hasPhoto: previous.hasPhoto });
      continue;
    }
    const itemRandom = random.fork(`item-${i}`);
    const spec = itemRandom.weighted(ARTICLES, typeWeights);
    const genders = Object.keys(spec.genders) as DemoGender[];
    const gender = itemRandom.weighted(genders, genders.map((g) => spec.genders[g] as number));
    const colour = itemRandom.pick(spec.colours ?? COLOUR_NAMES);
    const usages = Object.keys(spec.usages);
    const usage = itemRandom.weighted(usages, usages.map((u) => spec.usages[u] as number));
    const season = itemRandom.weighted(DEMO_SEASONS, SEASON_WEIGHTS);
    const year = 2011 + itemRandom.int(8);
    const variation = pictureVariation(itemRandom.fork('picture'), spec.patterned);
    const style =
      variation.pattern === 'stripes' ? 'Striped' : variation.pattern === 'dots' ? 'Polka Dot' : itemRandom.pick(spec.styles);
    const title = `Demo ${colour} ${style} ${spec.noun}`;
    items.push({ id, gender, spec, colour, season, year, usage, title, variation, hasPhoto: !withoutPhoto.has(i) });
  }
  return items;
}

function readmeText(seed: number, result: Omit<DemoCatalogResult, 'stylesCsv' | 'imagesDir' | 'interactionsCsv' | 'personasJson' | 'readme'>, shoppers: number): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return `FashionML demo catalog: GENERATED DATA, NOT REAL PRODUCTS OR SHOPPERS

Everything in this folder was generated by FashionML's demo generator (seed ${seed}) so the app
can be tried on a fresh clone without any real catalog. No row describes a real product, brand or
person; every product title starts with "Demo".

styles.csv        ${result.items} items in the Kaggle "Fashion Product Images" layout:
                  ${STYLES_COLUMNS.join(',')}
images/<id>.jpg   ${result.images} pictures, 60x80 JPEG, drawn from a simple silhouette per article
                  type in the item's colour (same type and colour look alike; position, size and
                  stripes or dots vary a little). ${result.missingPhotoIds.length} items have no picture on purpose, and
                  ${result.duplicatePhotoIds.length} products are listed more than once under consecutive ids with a
                  byte-identical picture, as in the real data.
interactions.csv  ${result.events} events of ${shoppers} simulated shoppers (user,item,type,timestamp,weight),
                  ${day(DEMO_START)} to ${day(DEMO_START + (DEMO_DAYS - 1) * 86_400_000)}, UTC. Types: ${Object.entries(result.eventsByType)
                    .map(([type, n]) => `${type} ${n}`)
                    .join(', ')}.
                  weight is the quantity for add_to_cart and purchase, 1 otherwise.
personas.json     the preferences each simulated shopper was drawn from (genders, two article
                  types, two colours, a usage, a season): the ground truth to check
                  recommendations against.

Any number measured on this data is a number about a simulation and must say so.
`;
}

/**
 * Writes the demo catalog into `outDir` (created when missing): `styles.csv`, `images/<id>.jpg`,
 * `interactions.csv`, `personas.json` and `README.txt`. Deterministic: the same options give the
 * same bytes in every file. Takes a second or two for the defaults (the pictures dominate).
 */
export async function generateDemoCatalog(outDir: string, options: DemoCatalogOptions = {}): Promise<DemoCatalogResult> {
  const n = count('items', options.items ?? DEMO_DEFAULTS.items, 1, 100_000);
  const shoppers = count('shoppers', options.shoppers ?? DEMO_DEFAULTS.shoppers, 0, 100_000);
  const seed = count('seed', options.seed ?? DEMO_DEFAULTS.seed, 0, 2 ** 32 - 1);
  const imagesDir = join(outDir, 'images');
  await mkdir(imagesDir, { recursive: true });

  const items = makeItems(seed, n);

  const rows = items.map((item) =>
    [item.id, item.gender, item.spec.masterCategory, item.spec.subCategory, item.spec.articleType, item.colour, item.season, item.year, item.usage, item.title].join(','),
  );
  const stylesCsv = join(outDir, 'styles.csv');
  await writeFile(stylesCsv, `${STYLES_COLUMNS.join(',')}\n${rows.join('\n')}\n`);

  // Originals first, then the relistings copy their bytes.
  const limit = pLimit(4);
  await Promise.all(
    items
      .filter((item) => item.hasPhoto && !item.samePhotoAs)
      .map((item) =>
        limit(async () => {
          const jpeg = await renderPicture(item.spec.shape, DEMO_COLOURS[item.colour], item.variation);
          await writeFile(join(imagesDir, `${item.id}.jpg`), jpeg);
        }),
      ),
  );
  const groups = new Map<string, string[]>();
  for (const item of items) {
    // A photo left from an earlier generation into the same folder must not fill a deliberate gap.
    if (!item.hasPhoto) await rm(join(imagesDir, `${item.id}.jpg`), { force: true });
    if (!item.hasPhoto || !item.samePhotoAs) continue;
    await copyFile(join(imagesDir, `${item.samePhotoAs}.jpg`), join(imagesDir, `${item.id}.jpg`));
    groups.set(item.samePhotoAs, [...(groups.get(item.samePhotoAs) ?? [item.samePhotoAs]), item.id]);
  }

  const { personas, events } = simulateShoppers(
    createRandom(seed).fork('shoppers'),
    items.map((item) => ({ id: item.id, gender: item.gender, articleType: item.spec.articleType, colour: item.colour, usage: item.usage, season: item.season })),
    { shoppers, start: DEMO_START, days: DEMO_DAYS },
  );
  const interactionsCsv = join(outDir, 'interactions.csv');
  const eventLines = events.map((e) => `${e.userId},${e.itemId},${e.type},${new Date(e.timestamp).toISOString().replace('.000Z', 'Z')},${e.weight ?? 1}`);
  await writeFile(interactionsCsv, `user,item,type,timestamp,weight\n${eventLines.map((line) => `${line}\n`).join('')}`);
  const personasJson = join(outDir, 'personas.json');
  const personaFile: { generated: string; seed: number; personas: Persona[] } = {
    generated: 'Simulated shoppers of the FashionML demo catalog: not real people.',
    seed,
    personas,
  };
  await writeFile(personasJson, `${JSON.stringify(personaFile, null, 2)}\n`);

  const eventsByType: Record<InteractionType, number> = { view: 0, click: 0, like: 0, add_to_cart: 0, purchase: 0 };
  for (const e of events) eventsByType[e.type]++;
  const summary = {
    items: n,
    images: items.filter((item) => item.hasPhoto).length,
    events: events.length,
    eventsByType,
    duplicatePhotoIds: [...groups.values()],
    missingPhotoIds: items.filter((item) => !item.hasPhoto).map((item) => item.id),
  };
  const readme = join(outDir, 'README.txt');
  await writeFile(readme, readmeText(seed, summary, shoppers));
  return { stylesCsv, imagesDir, interactionsCsv, personasJson, readme, ...summary };
}
