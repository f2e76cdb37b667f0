/**
 * The image step of ingest: every product photo is read once, hashed, checked, and turned into
 *
 * - one row of the packed encoder input: `encoder-input-<S>.u8`, N×S×S×3 uint8 RGB (NHWC, row
 *   after row, no header), the photo letterboxed onto white so garments keep their proportions,
 *   with `encoder-input-<S>.json` naming the item id and photo hash of every row in order;
 * - a WebP thumbnail `thumbs/<sha256>.webp`, content-addressed, so byte-identical photos share
 *   one file and a re-ingest writes only the photos it has not seen;
 * - when the photo is larger than the thumbnail, a WebP rendition `photos/<sha256>.webp` up to
 *   {@link RENDITION_MAX_SIDE} px on its long side (never enlarged) for the product page, where a
 *   thumbnail stretched to the photo's width would be blurred. Named and reused like thumbnails.
 *
 * One packed file because the trainer reads the whole set (or any batch of rows) with a single
 * read and hands the bytes to TF.js as they are: no per-item open, no PNG decode per epoch.
 * The thumbnail and the encoder row come from one decode of the photo, with EXIF orientation applied
 * and any transparency flattened onto white; the rendition from a decode of its own (at its larger
 * size), so the encoder input and thumbnails keep the bytes they had before renditions existed.
 *
 * A photo that is missing or broken does not stop the run: it comes back as an {@link ImageProblem}
 * and the caller keeps the item (a product without a photo is still a product).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import type { QuarantinedRow } from './types';
import { letterboxRgb } from '../../models/image/letterbox';

/** Photos with a side shorter than this (pixels) are rejected as `image_too_small`. */
export const MIN_IMAGE_SIDE = 16;
/** Photos above this many pixels are rejected as `image_too_large` before they are decoded. */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Files above this many bytes are rejected as `image_too_large` before they are read. */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
/** Longest side of a product-page rendition in pixels unless told otherwise (see {@link ImageOptions.renditionSize}). */
export const RENDITION_MAX_SIDE = 512;
/** Photos in flight at once unless told otherwise (see {@link ImageOptions.concurrency}). */
export const DEFAULT_IMAGE_CONCURRENCY = 8;

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const IMAGE_PROBLEM_REASONS = [
  'missing_image',
  'unreadable_image',
  'not_an_image',
  'image_too_small',
  'image_too_large',
] as const;
export type ImageProblemReason = (typeof IMAGE_PROBLEM_REASONS)[number];

/**
 * An item whose photo could not be used, as a quarantine row so the quality report can count it
 * with the others. The item itself stays in the catalog.
 */
export interface ImageProblem extends QuarantinedRow {
  /** The item's id. */
  id: string;
  /** The image reference as the item gave it (relative to the catalog folder). */
  file: string;
  /** Always 0: the image step does not know which catalog line the item came from. */
  line: 0;
  field: 'image';
  reason: ImageProblemReason;
  /** The absolute path that was read. */
  path: string;
}

export interface ProcessedImage {
  id: string;
  /** Hex sha256 of the original file's bytes. */
  sha256: string;
  /** Size of the original photo in pixels, as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  format: ImageFormat;
  /** Thumbnail path relative to `outDir`: `thumbs/<sha256>.webp`. */
  thumb: string;
  /** Row of this item in the packed encoder input. */
  row: number;
  /** The larger rendition, when the photo is larger than its thumbnail (see {@link renditionSize}). */
  rendition?: Rendition;
}

/** A product-page rendition of a photo, as written (or found) under `outDir`. */
export interface Rendition {
  /** Path relative to `outDir`: `photos/<sha256>.webp`. */
  file: string;
  width: number;
  height: number;
}

export interface DuplicateGroup {
  sha256: string;
  /** Ids of the items that share this exact photo, in input order (two or more). */
  itemIds: string[];
}

/** The packed encoder input and what its index file says. */
export interface EncoderInput {
  /** `outDir/encoder-input-<size>.u8`: `count`×`size`×`size`×3 bytes, RGB, NHWC, rows in `ids` order. */
  file: string;
  /** `outDir/encoder-input-<size>.json`: {@link EncoderInputIndex}. */
  indexFile: string;
  ids: string[];
  /** Photo hash of each row (rows of byte-identical photos are identical). */
  sha256: string[];
  size: number;
  channels: 3;
  count: number;
}

/** Contents of the encoder input's index file. */
export interface EncoderInputIndex {
  format: 'fashionml-encoder-input';
  version: 1;
  dtype: 'uint8';
  layout: 'NHWC';
  size: number;
  channels: 3;
  count: number;
  fit: 'contain';
  background: [number, number, number];
  ids: string[];
  sha256: string[];
}

export interface ImageResult {
  /** Items whose photo was used, in input order. */
  processed: ProcessedImage[];
  /** Items whose photo was not used, in input order. `processed` + `problems` = items with an image. */
  problems: ImageProblem[];
  duplicateGroups: DuplicateGroup[];
  encoderInput: EncoderInput;
  /** `outDir/thumbs`. */
  thumbsDir: string;
  /** Thumbnails written by this run, and those already there from an earlier one (not rewritten). */
  thumbsWritten: number;
  thumbsReused: number;
  /** `outDir/photos`. */
  photosDir: string;
  /** Renditions written by this run, those already there (not rewritten), and their bytes on disk. */
  renditionsWritten: number;
  renditionsReused: number;
  renditionBytes: number;
}

export interface ImageOptions {
  /** Folder the items' image paths are relative to. */
  catalogDir: string;
  /** Where the encoder input and `thumbs/` go (created when missing). */
  outDir: string;
  /** Side of the square encoder input in pixels (default 64). */
  encoderSize?: number;
  /**
   * Longest side of a thumbnail in pixels (default 128). Photos are never enlarged: a product card
   * on a phone is about 120–180 CSS px wide, so 128 covers it for large source photos, while the
   * 60×80 Myntra photos keep their own size instead of being blown up into blur.
   */
  thumbSize?: number;
  /**
   * Longest side of a product-page rendition in pixels (default {@link RENDITION_MAX_SIDE}; 0 for
   * none). The product photo is shown up to 28rem (448 CSS px) wide, so 512 is sharp there at 1×
   * and still a modest download on a phone; only photos larger than the thumbnail get one.
   */
  renditionSize?: number;
  /**
   * Photos in flight at once (default 8). sharp and file reads run on libuv's four threads while
   * hashing and letterboxing run on the main one; 8 keeps all of them fed. On a shared 2-core
   * machine the full Myntra catalog took 55–78 s at 8 or 16, 72–83 s at 4 and 81 s at 2.
   */
  concurrency?: number;
  /** Called after each photo, with how many are done out of the items that have an image path. */
  onProgress?: (done: number, total: number) => void;
}

const WHITE = { r: 255, g: 255, b: 255 } as const;
const THUMB_QUALITY = 80;
const RENDITION_QUALITY = 82;
const EMPTY = new Uint8Array(0);
const MAX_PENDING_WRITES = 256;

type Outcome =
  | { ok: true; sha256: string; width: number; height: number; format: ImageFormat; row: Uint8Array; rendition?: Rendition }
  | { ok: false; problem: ImageProblem };

class PhotoProblem extends Error {
  constructor(
    readonly reason: ImageProblemReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The size of the rendition kept for a photo shown `width`×`height` (orientation applied), or
 * undefined when the thumbnail already shows it at full size (its long side is at most
 * `thumbSize`). The long side becomes at most `maxSide`, the aspect ratio is kept (each side
 * rounded, at least 1 px), and a photo is never enlarged.
 */
export function renditionSize(
  width: number,
  height: number,
  thumbSize = 128,
  maxSide = RENDITION_MAX_SIDE,
): { width: number; height: number } | undefined {
  const long = Math.max(width, height);
  if (maxSide <= 0 || long <= thumbSize) return undefined;
  if (long <= maxSide) return { width, height };
  const scale = maxSide / long;
  // The long side is set exactly, so rounding never pushes it past maxSide.
  return width >= height
    ? { width: maxSide, height: Math.max(1, Math.round(height * scale)) }
    : { width: Math.max(1, Math.round(width * scale)), height: maxSide };
}

function positiveInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`processImages: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * Reads, checks and converts the photos of `items` (those with an `image` path relative to
 * `options.catalogDir`), writing the packed encoder input and the thumbnails into `options.outDir`.
 * Encoder rows are in input order, whatever order the photos finish in, so the same catalog always
 * gives the same bytes. Memory stays bounded: decoded photos are dropped as soon as their row is
 * written at its offset in the file. Throws only for bad options or when `outDir` cannot be written.
 */
export async function processImages(
  items: readonly { id: string; image?: string }[],
  options: ImageOptions,
): Promise<ImageResult> {
  const size = positiveInteger('encoderSize', options.encoderSize ?? 64, 8, 1024);
  const thumbSize = positiveInteger('thumbSize', options.thumbSize ?? 128, MIN_IMAGE_SIDE, 4096);
  const concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULT_IMAGE_CONCURRENCY, 1, 64);
  const maxRendition = options.renditionSize ?? RENDITION_MAX_SIDE;
  if (maxRendition !== 0) positiveInteger('renditionSize', maxRendition, thumbSize + 1, 4096);
  const catalogDir = resolve(options.catalogDir);
  const outDir = resolve(options.outDir);
  const thumbsDir = join(outDir, 'thumbs');
  const photosDir = join(outDir, 'photos');
  await mkdir(thumbsDir, { recursive: true });
  await mkdir(photosDir, { recursive: true });

  const work = items.filter((item): item is { id: string; image: string } => typeof item.image === 'string' && item.image !== '');
  const total = work.length;

  // Thumbnails already on disk (an earlier ingest) are kept; `claimed` stops two items with the
  // same photo in this run from encoding it twice.
  const existing = new Set((await readdir(thumbsDir)).filter((name) => name.endsWith('.webp')).map((name) => name.slice(0, -5)));
  const claimed = new Set<string>();
  let thumbsWritten = 0;
  let thumbsReused = 0;
  const existingRenditions = new Set((await readdir(photosDir)).filter((name) => name.endsWith('.webp')).map((name) => name.slice(0, -5)));
  // One promise per photo hash: items sharing a photo wait for the first one's rendition.
  const renditions = new Map<string, Promise<Rendition | undefined>>();
  let renditionsWritten = 0;
  let renditionsReused = 0;
  let renditionBytes = 0;

  const rowBytes = size * size * 3;
  const encoderFile = join(outDir, `encoder-input-${size}.u8`);
  const indexFile = join(outDir, `encoder-input-${size}.json`);
  const partialFile = `${encoderFile}.partial`;
  const handle: FileHandle = await open(partialFile, 'w');

  const outcomes: Outcome[] = new Array<Outcome>(total);
  const rowIds: string[] = [];
  const rowHashes: string[] = [];
  const rowOf = new Int32Array(total).fill(-1);
  const writes = new Set<Promise<void>>();
  let writeError: unknown;
  let flushed = 0;
  let done = 0;

  // Photos finish out of order; each row is placed once every earlier photo has finished, so the
  // row order is the input order with failed photos left out. Only finished-but-not-yet-placed
  // rows wait in memory, a handful at a time.
  const flush = () => {
    for (; flushed < total && outcomes[flushed] !== undefined; flushed++) {
      const outcome = outcomes[flushed] as Outcome;
      if (!outcome.ok) continue;
      const row = rowIds.length;
      rowOf[flushed] = row;
      rowIds.push((work[flushed] as { id: string }).id);
      rowHashes.push(outcome.sha256);
      const write: Promise<void> = handle.write(outcome.row, 0, rowBytes, row * rowBytes).then(
        () => {
          writes.delete(write);
        },
        (error: unknown) => {
          writeError ??= error;
          writes.delete(write);
        },
      );
      writes.add(write);
      // The row bytes are owned by the write now; the outcome keeps only the small fields.
      outcomes[flushed] = { ...outcome, row: EMPTY };
    }
  };

  const writeThumb = async (sha256: string, rgb: Buffer, width: number, height: number): Promise<void> => {
    if (existing.has(sha256)) {
      if (!claimed.has(sha256)) thumbsReused++;
      claimed.add(sha256);
      return;
    }
    if (claimed.has(sha256)) return;
    claimed.add(sha256);
    let pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
    if (width > thumbSize || height > thumbSize) pipeline = pipeline.resize(thumbSize, thumbSize, { fit: 'inside' });
    const webp = await pipeline.webp({ quality: THUMB_QUALITY }).toBuffer();
    // Written under a temporary name first: an interrupted run never leaves a truncated thumbnail
    // that a later run would take for a finished one.
    const target = join(thumbsDir, `${sha256}.webp`);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, webp);
    await rename(temporary, target);
    thumbsWritten++;
  };

  const makeRendition = async (sha256: string, bytes: Buffer, decoded: Decoded): Promise<Rendition | undefined> => {
    const dims = renditionSize(decoded.width, decoded.height, thumbSize, maxRendition);
    if (!dims) return undefined;
    const name = `photos/${sha256}.webp`;
    const target = join(outDir, name);
    if (existingRenditions.has(sha256)) {
      // What is on disk is the truth (it may predate a change of renditionSize).
      const found = await sharp(target)
        .metadata()
        .catch(() => undefined);
      if (found?.width && found.height) {
        renditionsReused++;
        renditionBytes += found.size ?? (await stat(target)).size;
        return { file: name, width: found.width, height: found.height };
      }
    }
    let pipeline = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).autoOrient();
    // Exact dimensions (a sub-pixel stretch at most), so the catalog's size is the file's.
    if (dims.width !== decoded.width || dims.height !== decoded.height) pipeline = pipeline.resize(dims.width, dims.height, { fit: 'fill' });
    if (decoded.hasAlpha) pipeline = pipeline.flatten({ background: WHITE });
    if (decoded.convertToSrgb) pipeline = pipeline.toColourspace('srgb');
    let webp: Buffer;
    try {
      webp = await pipeline.removeAlpha().webp({ quality: RENDITION_QUALITY }).toBuffer();
    } catch {
      // The thumbnail was made from this photo already: the product page shows that instead.
      return undefined;
    }
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, webp);
    await rename(temporary, target);
    renditionsWritten++;
    renditionBytes += webp.length;
    return { file: name, width: dims.width, height: dims.height };
  };

  const rendition = (sha256: string, bytes: Buffer, decoded: Decoded): Promise<Rendition | undefined> => {
    let pending = renditions.get(sha256);
    if (!pending) {
      pending = makeRendition(sha256, bytes, decoded);
      renditions.set(sha256, pending);
    }
    return pending;
  };

  const one = async (index: number): Promise<void> => {
    const item = work[index] as { id: string; image: string };
    const file = resolve(catalogDir, item.image);
    let outcome: Outcome;
    try {
      const inside = relative(catalogDir, file);
      if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        throw new PhotoProblem('unreadable_image', `${file}: outside the catalog folder ${catalogDir}`);
      }
      const bytes = await readPhoto(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const decoded = await decodePhoto(bytes, file, Math.max(thumbSize, size));
      await writeThumb(sha256, decoded.rgb, decoded.rgbWidth, decoded.rgbHeight);
      const kept = await rendition(sha256, bytes, decoded);
      const row = letterboxRgb(decoded.rgb, decoded.rgbWidth, decoded.rgbHeight, size);
      outcome = { ok: true, sha256, width: decoded.width, height: decoded.height, format: decoded.format, row, ...(kept ? { rendition: kept } : {}) };
    } catch (error) {
      if (!(error instanceof PhotoProblem)) throw error;
      const raw = `${item.id},${item.image}`.slice(0, 500);
      const problem: ImageProblem = { id: item.id, file: item.image, line: 0, field: 'image', reason: error.reason, message: error.message, raw, path: file };
      outcome = { ok: false, problem };
    }
    outcomes[index] = outcome;
    flush();
    done++;
    options.onProgress?.(done, total);
    // Should the disk fall behind, wait for it rather than hold more rows in memory.
    while (writes.size > MAX_PENDING_WRITES) await Promise.race(writes);
  };

  const limit = pLimit(concurrency);
  try {
    await Promise.all(work.map((_, index) => limit(() => one(index))));
    await Promise.all(writes);
    if (writeError !== undefined) throw writeError;
    await handle.truncate(rowIds.length * rowBytes);
  } catch (error) {
    limit.clearQueue();
    await Promise.allSettled(writes);
    await handle.close();
    await rm(partialFile, { force: true });
    throw error;
  }
  await handle.close();

  const index: EncoderInputIndex = {
    format: 'fashionml-encoder-input',
    version: 1,
    dtype: 'uint8',
    layout: 'NHWC',
    size,
    channels: 3,
    count: rowIds.length,
    fit: 'contain',
    background: [WHITE.r, WHITE.g, WHITE.b],
    ids: rowIds,
    sha256: rowHashes,
  };
  await writeFile(`${indexFile}.partial`, JSON.stringify(index));
  await rename(partialFile, encoderFile);
  await rename(`${indexFile}.partial`, indexFile);

  const processed: ProcessedImage[] = [];
  const problems: ImageProblem[] = [];
  const bySha = new Map<string, string[]>();
  outcomes.forEach((outcome, i) => {
    if (!outcome.ok) {
      problems.push(outcome.problem);
      return;
    }
    const id = (work[i] as { id: string }).id;
    const { sha256, width, height, format, rendition: kept } = outcome;
    processed.push({ id, sha256, width, height, format, thumb: `thumbs/${sha256}.webp`, row: rowOf[i] as number, ...(kept ? { rendition: kept } : {}) });
    const group = bySha.get(sha256);
    if (group) group.push(id);
    else bySha.set(sha256, [id]);
  });
  const duplicateGroups = [...bySha]
    .filter(([, ids]) => ids.length > 1)
    .map(([sha256, itemIds]) => ({ sha256, itemIds }));

  return {
    processed,
    problems,
    duplicateGroups,
    encoderInput: { file: encoderFile, indexFile, ids: rowIds, sha256: rowHashes, size, channels: 3, count: rowIds.length },
    thumbsDir,
    thumbsWritten,
    thumbsReused,
    photosDir,
    renditionsWritten,
    renditionsReused,
    renditionBytes,
  };
}

async function readPhoto(file: string): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PhotoProblem('missing_image', `${file}: no such file`);
    throw new PhotoProblem('unreadable_image', `${file}: cannot be opened (${code ?? String(error)})`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new PhotoProblem('unreadable_image', `${file}: not a regular file`);
    if (stats.size === 0) throw new PhotoProblem('not_an_image', `${file}: empty file`);
    if (stats.size > MAX_IMAGE_BYTES) {
      throw new PhotoProblem('image_too_large', `${file}: ${stats.size} bytes, more than the ${MAX_IMAGE_BYTES} allowed`);
    }
    return await handle.readFile();
  } catch (error) {
    if (error instanceof PhotoProblem) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new PhotoProblem('unreadable_image', `${file}: cannot be read (${code ?? String(error)})`);
  } finally {
    await handle.close();
  }
}

interface Decoded {
  format: ImageFormat;
  /** The original's size as displayed. */
  width: number;
  height: number;
  /** Decoded RGB (white under any transparency), at most `maxSide` on its long side. */
  rgb: Buffer;
  rgbWidth: number;
  rgbHeight: number;
  /** How the decode treated the photo, so the rendition is made the same way. */
  hasAlpha: boolean;
  convertToSrgb: boolean;
}

/** Header check (format, size), then one decode to RGB that both outputs are made from. */
async function decodePhoto(bytes: Buffer, file: string, maxSide: number): Promise<Decoded> {
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new PhotoProblem('not_an_image', `${file}: not an image (${errorMessage(error)})`);
  }
  const format = metadata.format as string;
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new PhotoProblem('not_an_image', `${file}: ${format} is not one of ${IMAGE_FORMATS.join(', ')}`);
  }
  const { width, height } = metadata.autoOrient;
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    throw new PhotoProblem('image_too_small', `${file}: ${width}×${height} px, a side is under ${MIN_IMAGE_SIDE} px`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new PhotoProblem('image_too_large', `${file}: ${width}×${height} px, more than ${MAX_IMAGE_PIXELS} pixels`);
  }
  try {
    let pipeline = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).autoOrient();
    // Large photos are shrunk while decoding (JPEG shrink-on-load); both outputs need no more.
    if (width > maxSide || height > maxSide) pipeline = pipeline.resize(maxSide, maxSide, { fit: 'inside' });
    const convertToSrgb = metadata.space !== 'srgb' || metadata.channels < 3;
    if (metadata.hasAlpha) pipeline = pipeline.flatten({ background: WHITE });
    if (convertToSrgb) pipeline = pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, not 3`);
    return {
      format: format as ImageFormat,
      width,
      height,
      rgb: data,
      rgbWidth: info.width,
      rgbHeight: info.height,
      hasAlpha: metadata.hasAlpha,
      convertToSrgb,
    };
  } catch (error) {
    throw new PhotoProblem('unreadable_image', `${file}: cannot be decoded (${errorMessage(error)})`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The letterbox lives in models/ so the device prepares a shopper's photo with the same bytes. */
export { letterboxRgb };
