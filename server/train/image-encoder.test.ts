import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../models/catalog/item';
import { disposeEncoder, embed } from '../../models/image/encoder';
import { loadEncoder } from '../../models/image/serialize';
import type { EncoderModelJson } from '../../models/image/serialize';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { catalogLabels, loadLabelledImages } from './image-data';
import { parseLowResolution, prepareBackend, splitByPhoto, trainEncoder, trainImageEncoderFromCatalog } from './image-encoder';

const STYLES = join(import.meta.dirname, '../../../shared/data/myntra-fashion-small/styles.csv');

describe('splitByPhoto', () => {
  it('keeps every group of byte-identical photos on one side and holds out about the fraction asked', () => {
    const sha = Array.from({ length: 2000 }, (_, i) => `h${Math.floor(i / 2)}`);
    const split = splitByPhoto(sha, 0.1, 7);
    expect(split.train.length + split.queries.length).toBe(2000);
    const trainGroups = new Set(Array.from(split.train, (r) => split.group[r]));
    for (const r of split.queries) expect(trainGroups.has(split.group[r]!)).toBe(false);
    expect(split.queries.length / 2000).toBeGreaterThan(0.06);
    expect(split.queries.length / 2000).toBeLessThan(0.14);
    expect(splitByPhoto(sha, 0.1, 7).queries).toEqual(split.queries);
  });
});

describe('trainEncoder options', () => {
  it('reads --low-res as SIZE@SHARE or none, and says what it expected otherwise', () => {
    expect(parseLowResolution('48@0.6')).toEqual({ size: 48, share: 0.6 });
    expect(parseLowResolution('none')).toBeNull();
    expect(() => parseLowResolution('48')).toThrow(/expected SIZE@SHARE \(e\.g\. 48@0\.6\) or none, got "48"/);
  });

  it('refuses a low-resolution phase the photos cannot be downscaled to', async () => {
    const data = { images: new Uint8Array(2 * 16 * 16 * 3), size: 16, count: 2, ids: ['a', 'b'], sha256: ['x', 'y'], ...catalogLabels([]) };
    for (const lowResolution of [{ size: 7, share: 0.5 }, { size: 32, share: 0.5 }, { size: 8, share: 2 }]) {
      await expect(trainEncoder(data, Int32Array.of(0, 1), { lowResolution, replicas: 1 })).rejects.toThrow(/lowResolution needs an even size in \[8, 16\]/);
    }
  });
});

describe('trainEncoder low-resolution phase', () => {
  it('ends at full size when the epoch limit, not the budget, ends the run', async () => {
    // 32 random 16-pixel photos, 4 steps an epoch, 5 epochs: done in well under the 600 s budget.
    const count = 32;
    const images = Uint8Array.from({ length: count * 16 * 16 * 3 }, (_, i) => (i * 2654435761) >>> 24);
    const items: CatalogItem[] = Array.from({ length: count }, (_, i) => ({
      id: `${i}`, title: `item ${i}`, gender: 'Women', masterCategory: 'Apparel', subCategory: 'Topwear', articleType: `type ${i % 2}`, colour: `colour ${i % 3}`, usage: 'Casual', attributes: {},
    }));
    const data = { images, size: 16, count, ids: items.map((item) => item.id), sha256: items.map((item) => item.id), ...catalogLabels(items) };
    const rows = Int32Array.from({ length: count }, (_, i) => i);
    const config = { blocks: [{ channels: 4, stride: 2 as const }], embeddingDim: 4 };
    await prepareBackend('wasm');
    const result = await trainEncoder(data, rows, { budgetSeconds: 600, maxEpochs: 5, batchSize: 8, replicas: 1, lowResolution: { size: 8, share: 0.5 }, config });
    expect(result.steps).toBe(20);
    // The first half of the planned 20 steps at 8 pixels, the rest at 16.
    expect(result.lowResolutionSteps).toBe(10);
    disposeEncoder(result.encoder);
  });
});

describe.skipIf(!existsSync(STYLES))(`trainImageEncoderFromCatalog (needs ${STYLES})`, () => {
  it('trains on a small cut of the catalog, saves a model that loads, and reports its metrics', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fashionml-image-encoder-'));
    try {
      const items = (await importKaggleStyles(STYLES)).accepted.slice(0, 80);
      const out = join(dir, 'model');
      const phases = new Set<string>();
      const { modelDir, metrics } = await trainImageEncoderFromCatalog({
        items,
        catalogDir: dirname(STYLES),
        cacheDir: join(dir, 'cache'),
        outDir: out,
        budgetSeconds: 2,
        // Half the budget on 32-pixel photos: the progressive-resizing path, end to end.
        train: { batchSize: 16, maxEpochs: 2, lowResolution: { size: 32, share: 0.5 }, config: { blocks: [{ channels: 8, stride: 2 }, { channels: 16, stride: 2 }], embeddingDim: 16 } },
        onProgress: (e) => phases.add(e.phase),
      });
      expect(modelDir).toBe(out);
      expect([...phases]).toEqual(expect.arrayContaining(['images', 'train', 'epoch', 'evaluate']));
      for (const key of ['p10Type', 'p10TypeColour', 'p10TypePhone', 'p10TypeColourPhone'] as const) {
        expect(metrics[key]).toBeGreaterThanOrEqual(0);
        expect(metrics[key]).toBeLessThanOrEqual(1);
      }
      expect(metrics.p10TypeColour).toBeLessThanOrEqual(metrics.p10Type);
      expect(metrics.steps).toBeGreaterThan(0);
      expect(metrics.photos).toBeGreaterThan(60);
      expect(metrics.queries).toBeGreaterThan(0);
      const modelJson = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as EncoderModelJson;
      expect((modelJson.meta.metrics as { steps: number }).steps).toBe(metrics.steps);
      const bin = await readFile(join(out, 'weights.bin'));
      const encoder = loadEncoder(tf, modelJson, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
      const data = await loadLabelledImages({ items, catalogDir: dirname(STYLES), cacheDir: join(dir, 'cache') });
      const vectors = await embed(tf, encoder, data.images.subarray(0, 4 * 64 * 64 * 3));
      expect(Math.hypot(...vectors.subarray(0, 16))).toBeCloseTo(1, 4);
      await expect(loadLabelledImages({ items, cacheDir: dir })).rejects.toThrow(/catalogDir/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
