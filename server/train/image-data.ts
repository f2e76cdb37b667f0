/**
 * The image encoder's training data: the catalog's items with their labels, joined with the packed
 * encoder input written by the image step of ingest (`encoder-input-<S>.u8` + `.json`). The packed
 * input is made once (about a minute for the Myntra catalog) and reused from `cacheDir`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { processImages } from '../ingest/images';
import type { EncoderInputIndex } from '../ingest/images';
import { TASKS } from '../../models/image/encoder';
import type { Task } from '../../models/image/encoder';
import type { CatalogItem } from '../ingest/types';

export interface LabelledImages {
  /** N×S×S×3 RGB bytes, NHWC. */
  images: Uint8Array;
  size: number;
  count: number;
  ids: string[];
  sha256: string[];
  /** Class index of each row for every task (-1: the item has no value), and each task's class names. */
  labels: Record<Task, Int32Array>;
  classes: Record<Task, string[]>;
}

/**
 * The supervision of every encoder task for `items`, in their order: class names sorted, and each
 * item's class index, or -1 where the item has no value (usage is optional in the catalog), so
 * that row adds nothing to that task's loss.
 */
export function catalogLabels(items: readonly CatalogItem[]): Pick<LabelledImages, 'labels' | 'classes'> {
  const labels = {} as Record<Task, Int32Array>;
  const classes = {} as Record<Task, string[]>;
  for (const task of TASKS) {
    const values = items.map((item) => item[task]);
    const names = [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))].sort();
    const at = new Map(names.map((name, i) => [name, i]));
    labels[task] = Int32Array.from(values, (v) => (v === undefined ? -1 : (at.get(v) ?? -1)));
    classes[task] = names;
  }
  return { labels, classes };
}

export interface LoadOptions {
  /** `styles.csv` of a Kaggle-layout catalog; its photos are in `images/` beside it. */
  stylesCsv?: string;
  /** Or catalog items already imported, with the folder their `image` paths are relative to. */
  items?: readonly CatalogItem[];
  catalogDir?: string;
  /** Where the packed encoder input is kept between runs. */
  cacheDir: string;
  size?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The catalog items and their photo folder, from either form of `LoadOptions`. */
async function catalogOf(options: LoadOptions): Promise<{ items: readonly CatalogItem[]; catalogDir: string; source: string }> {
  if (options.items) {
    if (options.stylesCsv) throw new Error('loadLabelledImages: give either stylesCsv or items + catalogDir, not both');
    if (!options.catalogDir) throw new Error('loadLabelledImages: items need catalogDir (the folder their image paths are relative to)');
    return { items: options.items, catalogDir: resolve(options.catalogDir), source: `the ${options.items.length} items given` };
  }
  if (!options.stylesCsv) throw new Error('loadLabelledImages: give stylesCsv, or items + catalogDir');
  const stylesCsv = resolve(options.stylesCsv);
  const imported = await importKaggleStyles(stylesCsv);
  return { items: imported.accepted, catalogDir: dirname(stylesCsv), source: stylesCsv };
}

/** Reads (or first builds) the packed encoder input and the labels of its rows. */
export async function loadLabelledImages(options: LoadOptions): Promise<LabelledImages> {
  const size = options.size ?? 64;
  const catalog = await catalogOf(options);
  const byId = new Map<string, CatalogItem>(catalog.items.map((item) => [item.id, item]));
  const indexFile = join(options.cacheDir, `encoder-input-${size}.json`);
  const dataFile = join(options.cacheDir, `encoder-input-${size}.u8`);
  if (!existsSync(indexFile) || !existsSync(dataFile)) {
    await processImages([...catalog.items], {
      catalogDir: catalog.catalogDir,
      outDir: options.cacheDir,
      encoderSize: size,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as EncoderInputIndex;
  const bytes = await readFile(dataFile);
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (index.size !== size || images.length !== index.count * size * size * 3) {
    throw new Error(`${dataFile} does not match ${indexFile}`);
  }
  const items = index.ids.map((id) => {
    const item = byId.get(id);
    if (!item) throw new Error(`Encoder input row ${id} (${indexFile}) is not in ${catalog.source}: use a cacheDir per catalog`);
    return item;
  });
  return { images, size, count: index.count, ids: index.ids, sha256: index.sha256, ...catalogLabels(items) };
}
