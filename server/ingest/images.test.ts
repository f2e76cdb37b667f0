import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterboxRgb, MAX_IMAGE_PIXELS, processImages, RENDITION_MAX_SIDE, renditionSize } from './images';
import type { EncoderInputIndex, ImageResult } from './images';

let dir: string;
let catalogDir: string;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** RGB of pixel (x, y) in row `row` of a packed NHWC uint8 file. */
function pixel(packed: Buffer, size: number, row: number, x: number, y: number): [number, number, number] {
  const at = ((row * size + y) * size + x) * 3;
  return [packed[at]!, packed[at + 1]!, packed[at + 2]!];
}

function solid(width: number, height: number, colour: { r: number; g: number; b: number; alpha?: number }, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background: colour } });
}

/** A valid PNG whose header claims `width`×`height` (no pixel data worth decoding). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(1, 1, { r: 0, g: 0, b: 0 }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const items = [
  { id: 'red-png', image: 'images/red.png' },
  { id: 'blue-jpg', image: 'images/blue.jpg' },
  { id: 'green-a', image: 'images/green-a.jpg' },
  { id: 'no-photo' },
  { id: 'green-b', image: 'images/green-b.jpg' },
  { id: 'text', image: 'images/text.jpg' },
  { id: 'tiny', image: 'images/tiny.png' },
  { id: 'missing', image: 'images/missing.jpg' },
  { id: 'clear', image: 'images/clear.png' },
  { id: 'large', image: 'images/large.jpg' },
  { id: 'gif', image: 'images/anim.gif' },
  { id: 'truncated', image: 'images/truncated.jpg' },
  { id: 'huge', image: 'images/huge.png' },
  { id: 'outside', image: '../outside.jpg' },
  { id: 'rotated', image: 'images/rotated.jpg' },
  { id: 'empty-path', image: '' },
];
const withImage = items.filter((item) => item.image);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-images-'));
  catalogDir = join(dir, 'catalog');
  const images = join(catalogDir, 'images');
  mkdirSync(images, { recursive: true });
  await solid(40, 60, { r: 255, g: 0, b: 0 }).png().toFile(join(images, 'red.png'));
  await solid(80, 60, { r: 0, g: 0, b: 255 }).jpeg({ quality: 95 }).toFile(join(images, 'blue.jpg'));
  await solid(60, 80, { r: 0, g: 160, b: 0 }).jpeg().toFile(join(images, 'green-a.jpg'));
  copyFileSync(join(images, 'green-a.jpg'), join(images, 'green-b.jpg'));
  writeFileSync(join(images, 'text.jpg'), 'id,name\n1,not a photo\n');
  await solid(4, 4, { r: 9, g: 9, b: 9 }).png().toFile(join(images, 'tiny.png'));
  await solid(32, 32, { r: 0, g: 0, b: 0, alpha: 0 }, 4).png().toFile(join(images, 'clear.png'));
  await solid(400, 300, { r: 200, g: 100, b: 50 }).jpeg().toFile(join(images, 'large.jpg'));
  await solid(30, 30, { r: 1, g: 2, b: 3 }).gif().toFile(join(images, 'anim.gif'));
  const whole = await solid(200, 300, { r: 10, g: 20, b: 30 }).jpeg().toBuffer();
  writeFileSync(join(images, 'truncated.jpg'), whole.subarray(0, 400));
  writeFileSync(join(images, 'huge.png'), await pngClaiming(10_000, 10_000));
  await solid(60, 80, { r: 255, g: 0, b: 0 }).jpeg().toFile(join(dir, 'outside.jpg'));
  // Stored 80×40 with EXIF orientation 6 (rotate 90°): displayed 40×80.
  await solid(80, 40, { r: 0, g: 0, b: 0 }).jpeg().withMetadata({ orientation: 6 }).toFile(join(images, 'rotated.jpg'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('processImages on small fixtures', () => {
  let out: string;
  let result: ImageResult;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    out = join(dir, 'out');
    result = await processImages(items, { catalogDir, outDir: out, onProgress: (done, total) => progress.push([done, total]) });
  });

  it('accounts for every item with an image path, in input order', () => {
    expect(result.processed.length + result.problems.length).toBe(withImage.length);
    const seen = [...result.processed.map((p) => p.id), ...result.problems.map((p) => p.id)];
    expect(new Set(seen)).toEqual(new Set(withImage.map((item) => item.id)));
    expect(result.processed.map((p) => p.id)).toEqual(['red-png', 'blue-jpg', 'green-a', 'green-b', 'clear', 'large', 'rotated']);
    expect(progress.at(-1)).toEqual([withImage.length, withImage.length]);
    expect(progress).toHaveLength(withImage.length);
  });

  it('names the problem of every photo it could not use', () => {
    const reasons = Object.fromEntries(result.problems.map((p) => [p.id, p.reason]));
    expect(reasons).toEqual({
      text: 'not_an_image',
      tiny: 'image_too_small',
      missing: 'missing_image',
      gif: 'not_an_image',
      truncated: 'unreadable_image',
      huge: 'image_too_large',
      outside: 'unreadable_image',
    });
    for (const problem of result.problems) {
      expect(problem.field).toBe('image');
      expect(problem.file).toBe(items.find((item) => item.id === problem.id)?.image);
      expect(problem.path).toBe(resolve(catalogDir, problem.file));
      expect(problem.message).toContain(problem.path);
    }
    expect(result.problems.find((p) => p.id === 'huge')?.message).toContain(String(MAX_IMAGE_PIXELS));
    expect(result.problems.find((p) => p.id === 'gif')?.message).toContain('gif is not one of jpeg, png, webp');
  });

  it('records the hash, size and format of the originals', () => {
    const byId = Object.fromEntries(result.processed.map((p) => [p.id, p]));
    expect(byId['red-png']).toMatchObject({ width: 40, height: 60, format: 'png' });
    expect(byId['blue-jpg']).toMatchObject({ width: 80, height: 60, format: 'jpeg' });
    expect(byId['large']).toMatchObject({ width: 400, height: 300, format: 'jpeg' });
    expect(byId['rotated']).toMatchObject({ width: 40, height: 80, format: 'jpeg' });
    for (const p of result.processed) {
      const image = items.find((item) => item.id === p.id)!.image!;
      expect(p.sha256).toBe(sha256(readFileSync(join(catalogDir, image))));
    }
  });

  it('groups byte-identical photos', () => {
    const green = result.processed.find((p) => p.id === 'green-a')!;
    expect(result.duplicateGroups).toEqual([{ sha256: green.sha256, itemIds: ['green-a', 'green-b'] }]);
  });

  it('writes one content-addressed WebP thumbnail per distinct photo, never enlarged', async () => {
    const names = readdirSync(result.thumbsDir).sort();
    const hashes = [...new Set(result.processed.map((p) => p.sha256))];
    expect(names).toEqual(hashes.map((h) => `${h}.webp`).sort());
    expect(result.thumbsWritten).toBe(hashes.length);
    const size = async (id: string) => {
      const p = result.processed.find((q) => q.id === id)!;
      expect(p.thumb).toBe(`thumbs/${p.sha256}.webp`);
      const m = await sharp(join(out, p.thumb)).metadata();
      return [m.format, m.width, m.height];
    };
    expect(await size('red-png')).toEqual(['webp', 40, 60]);
    expect(await size('large')).toEqual(['webp', 128, 96]);
    expect(await size('rotated')).toEqual(['webp', 40, 80]);
  });

  it('keeps a rendition only of photos larger than the thumbnail, at their own size up to 512 px', async () => {
    const byId = Object.fromEntries(result.processed.map((p) => [p.id, p]));
    // 400×300 is above the 128-px thumbnail and below 512: kept as it is, never enlarged.
    expect(byId['large']!.rendition).toEqual({ file: `photos/${byId['large']!.sha256}.webp`, width: 400, height: 300 });
    const m = await sharp(join(out, byId['large']!.rendition!.file)).metadata();
    expect([m.format, m.width, m.height]).toEqual(['webp', 400, 300]);
    // The thumbnail already shows these at full size.
    for (const id of ['red-png', 'blue-jpg', 'green-a', 'clear', 'rotated']) expect(byId[id], id).not.toHaveProperty('rendition');
    expect(readdirSync(result.photosDir)).toEqual([`${byId['large']!.sha256}.webp`]);
    expect(result).toMatchObject({ renditionsWritten: 1, renditionsReused: 0 });
    expect(result.renditionBytes).toBe(statSync(join(out, byId['large']!.rendition!.file)).size);
  });

  it('packs the encoder input: 64×64 RGB rows, letterboxed on white, in the order of its index', () => {
    const { encoderInput } = result;
    expect(encoderInput).toMatchObject({ size: 64, channels: 3, count: result.processed.length });
    const packed = readFileSync(encoderInput.file);
    expect(packed.length).toBe(encoderInput.count * 64 * 64 * 3);
    const index = JSON.parse(readFileSync(encoderInput.indexFile, 'utf8')) as EncoderInputIndex;
    expect(index).toMatchObject({ format: 'fashionml-encoder-input', dtype: 'uint8', layout: 'NHWC', size: 64, channels: 3, fit: 'contain' });
    expect(index.ids).toEqual(result.processed.map((p) => p.id));
    expect(index.sha256).toEqual(result.processed.map((p) => p.sha256));
    result.processed.forEach((p, row) => expect(p.row).toBe(row));

    const row = (id: string) => result.processed.findIndex((p) => p.id === id);
    // Portrait 40×60 → 43×64 with white bands left and right.
    expect(pixel(packed, 64, row('red-png'), 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(packed, 64, row('red-png'), 63, 63)).toEqual([255, 255, 255]);
    expect(pixel(packed, 64, row('red-png'), 32, 32)).toEqual([255, 0, 0]);
    expect(pixel(packed, 64, row('red-png'), 32, 0)).toEqual([255, 0, 0]);
    // Landscape 80×60 → 64×48 with white bands top and bottom.
    expect(pixel(packed, 64, row('blue-jpg'), 32, 0)).toEqual([255, 255, 255]);
    expect(pixel(packed, 64, row('blue-jpg'), 32, 63)).toEqual([255, 255, 255]);
    const [r, g, b] = pixel(packed, 64, row('blue-jpg'), 32, 32);
    expect(r).toBeLessThan(8);
    expect(g).toBeLessThan(8);
    expect(b).toBeGreaterThan(245);
    // Transparency is flattened onto white.
    const clear = packed.subarray(row('clear') * 64 * 64 * 3, (row('clear') + 1) * 64 * 64 * 3);
    expect(clear.every((v) => v === 255)).toBe(true);
    // Byte-identical photos give identical rows.
    const rowBytes = (id: string) => packed.subarray(row(id) * 12288, (row(id) + 1) * 12288);
    expect(rowBytes('green-a').equals(rowBytes('green-b'))).toBe(true);
  });

  it('leaves no temporary files behind', () => {
    expect(readdirSync(out).sort()).toEqual(['encoder-input-64.json', 'encoder-input-64.u8', 'photos', 'thumbs']);
    expect(readdirSync(result.photosDir).every((name) => /^[0-9a-f]{64}\.webp$/.test(name))).toBe(true);
  });

  it('re-ingests without rewriting thumbnails, giving the same encoder bytes at any concurrency', async () => {
    const first = readFileSync(result.encoderInput.file);
    const thumb = join(out, result.processed[0]!.thumb);
    const before = statSync(thumb).mtimeMs;
    const again = await processImages(items, { catalogDir, outDir: out, concurrency: 1 });
    expect(again.thumbsWritten).toBe(0);
    expect(again).toMatchObject({ renditionsWritten: 0, renditionsReused: 1, renditionBytes: result.renditionBytes });
    expect(again.processed.map((p) => p.rendition)).toEqual(result.processed.map((p) => p.rendition));
    expect(again.thumbsReused).toBe(new Set(result.processed.map((p) => p.sha256)).size);
    expect(statSync(thumb).mtimeMs).toBe(before);
    expect(readFileSync(again.encoderInput.file).equals(first)).toBe(true);
    // libvips words a decode failure differently from run to run (its first warning wins), so
    // compare what matters: which items have which problem.
    const summary = (problems: typeof result.problems) => problems.map((p) => `${p.id}:${p.reason}:${p.file}`);
    expect(summary(again.problems)).toEqual(summary(result.problems));
  });

  it('honours encoderSize and thumbSize', async () => {
    const small = await processImages([{ id: 'large', image: 'images/large.jpg' }], {
      catalogDir,
      outDir: join(dir, 'out-32'),
      encoderSize: 32,
      thumbSize: 100,
    });
    expect(statSync(small.encoderInput.file).size).toBe(32 * 32 * 3);
    expect(small.encoderInput.file.endsWith('encoder-input-32.u8')).toBe(true);
    const m = await sharp(join(dir, 'out-32', small.processed[0]!.thumb)).metadata();
    expect([m.width, m.height]).toEqual([100, 75]);
  });

  it('rejects bad options with the allowed range', async () => {
    await expect(processImages(items, { catalogDir, outDir: out, encoderSize: 0 })).rejects.toThrow(/encoderSize must be an integer from 8 to 1024/);
    await expect(processImages(items, { catalogDir, outDir: out, concurrency: 1.5 })).rejects.toThrow(/concurrency/);
  });
});

describe('renditionSize', () => {
  it('is kept only when the photo is larger than the thumbnail', () => {
    expect(renditionSize(60, 80)).toBeUndefined();
    expect(renditionSize(128, 128)).toBeUndefined();
    expect(renditionSize(85, 128)).toBeUndefined();
    expect(renditionSize(129, 100)).toEqual({ width: 129, height: 100 });
    expect(renditionSize(300, 200, 300)).toBeUndefined();
    expect(renditionSize(2000, 1000, 128, 0)).toBeUndefined();
  });

  it('never enlarges a photo, and keeps its long side at most 512 px with the aspect ratio', () => {
    expect(RENDITION_MAX_SIDE).toBe(512);
    // The H&M sample's photos: shown at their own size.
    expect(renditionSize(128, 192)).toEqual({ width: 128, height: 192 });
    expect(renditionSize(512, 300)).toEqual({ width: 512, height: 300 });
    expect(renditionSize(1800, 2400)).toEqual({ width: 384, height: 512 });
    expect(renditionSize(2400, 1601)).toEqual({ width: 512, height: 342 });
    expect(renditionSize(5000, 10)).toEqual({ width: 512, height: 1 });
    expect(renditionSize(1000, 1000, 128, 300)).toEqual({ width: 300, height: 300 });
    for (const [w, h] of [[129, 4000], [777, 513], [513, 777], [4096, 4095], [1080, 1920]] as const) {
      const size = renditionSize(w, h)!;
      expect(Math.max(size.width, size.height), `${w}×${h}`).toBe(Math.min(512, Math.max(w, h)));
      expect(size.width, `${w}×${h}`).toBeLessThanOrEqual(w);
      expect(size.height, `${w}×${h}`).toBeLessThanOrEqual(h);
      // The short side is the exact scaled length, rounded (at most half a pixel off).
      const scale = Math.min(1, 512 / Math.max(w, h));
      expect(Math.abs(size.width - w * scale), `${w}×${h}`).toBeLessThanOrEqual(0.5);
      expect(Math.abs(size.height - h * scale), `${w}×${h}`).toBeLessThanOrEqual(0.5);
    }
  });

  it('is what processImages writes for a large photo, orientation applied, and renditionSize 0 turns it off', async () => {
    const images = join(dir, 'big-catalog', 'images');
    mkdirSync(images, { recursive: true });
    // Stored 1200×900 with EXIF orientation 6: displayed 900×1200, so the rendition is 384×512.
    await solid(1200, 900, { r: 30, g: 60, b: 90 }).jpeg().withMetadata({ orientation: 6 }).toFile(join(images, 'big.jpg'));
    const big = [{ id: 'big', image: 'images/big.jpg' }];
    const outDir = join(dir, 'out-big');
    const result = await processImages(big, { catalogDir: join(dir, 'big-catalog'), outDir });
    const p = result.processed[0]!;
    expect(p).toMatchObject({ width: 900, height: 1200, rendition: { width: 384, height: 512 } });
    const m = await sharp(join(outDir, p.rendition!.file)).metadata();
    expect([m.format, m.width, m.height]).toEqual(['webp', 384, 512]);
    const t = await sharp(join(outDir, p.thumb)).metadata();
    expect([t.width, t.height]).toEqual([96, 128]);
    const none = await processImages(big, { catalogDir: join(dir, 'big-catalog'), outDir: join(dir, 'out-none'), renditionSize: 0 });
    expect(none.processed[0]).not.toHaveProperty('rendition');
    expect(readdirSync(none.photosDir)).toEqual([]);
    await expect(processImages(big, { catalogDir: join(dir, 'big-catalog'), outDir, renditionSize: 100 })).rejects.toThrow(/renditionSize must be an integer from 129/);
  }, 60_000);
});

describe('letterboxRgb', () => {
  it('keeps a solid colour exactly and centres the picture', () => {
    const src = new Uint8Array(60 * 80 * 3);
    for (let i = 0; i < src.length; i += 3) src.set([12, 34, 56], i);
    const out = letterboxRgb(src, 60, 80, 64);
    // 60×80 → 48×64: columns 0–7 and 56–63 white.
    const at = (x: number, y: number) => [...out.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(at(7, 10)).toEqual([255, 255, 255]);
    expect(at(8, 10)).toEqual([12, 34, 56]);
    expect(at(55, 63)).toEqual([12, 34, 56]);
    expect(at(56, 0)).toEqual([255, 255, 255]);
  });

  it('averages when it shrinks', () => {
    // A 2-pixel-period black and white stripe pattern shrunk by 4 becomes mid grey, not aliasing.
    const src = new Uint8Array(128 * 128 * 3);
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) src.fill(x % 2 ? 255 : 0, (y * 128 + x) * 3, (y * 128 + x) * 3 + 3);
    const out = letterboxRgb(src, 128, 128, 32);
    for (const v of out.subarray(32 * 3 * 8, 32 * 3 * 24)) expect(Math.abs(v - 127.5)).toBeLessThan(20);
  });
});

const REAL = resolve(process.cwd(), '../shared/data/myntra-fashion-small');
const hasReal = existsSync(join(REAL, 'styles.csv'));

describe.skipIf(!hasReal)(`processImages on the first 500 real Myntra photos${hasReal ? '' : ' (skipped: ../shared/data/myntra-fashion-small not found)'}`, () => {
  it('processes every photo, groups the byte-identical ones, and letterboxes 60×80 photos exactly', { timeout: 120_000 }, async () => {
    const files = readdirSync(join(REAL, 'images')).sort().slice(0, 500);
    const realItems = files.map((file) => ({ id: file.replace(/\.jpg$/, ''), image: `images/${file}` }));
    realItems.push({ id: 'no-such-photo', image: 'images/0.jpg' });
    const out = join(dir, 'real');
    const result = await processImages(realItems, { catalogDir: REAL, outDir: out });

    expect(result.processed).toHaveLength(500);
    expect(result.problems.map((p) => [p.id, p.reason])).toEqual([['no-such-photo', 'missing_image']]);

    // Duplicate groups, worked out independently from the file bytes.
    const byHash = new Map<string, string[]>();
    for (const item of realItems.slice(0, 500)) {
      const hash = sha256(readFileSync(join(REAL, item.image)));
      byHash.set(hash, [...(byHash.get(hash) ?? []), item.id]);
    }
    const expected = [...byHash].filter(([, ids]) => ids.length > 1).map(([hash, itemIds]) => ({ sha256: hash, itemIds }));
    expect(expected.length).toBeGreaterThan(0);
    expect(result.duplicateGroups).toEqual(expected);
    expect(readdirSync(result.thumbsDir)).toHaveLength(byHash.size);

    const packed = readFileSync(result.encoderInput.file);
    expect(packed.length).toBe(500 * 64 * 64 * 3);
    result.processed.forEach((p, row) => {
      if (p.width !== 60 || p.height !== 80) return;
      // The white bands of the letterbox: columns 0–7 and 56–63.
      for (const x of [0, 7, 56, 63]) for (const y of [0, 32, 63]) expect(pixel(packed, 64, row, x, y)).toEqual([255, 255, 255]);
    });
  });
});
