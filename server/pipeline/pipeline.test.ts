/**
 * `fashionml pipeline` as a user runs it, on the generated demo catalog: a real process, data
 * directory, SQLite file and registry. The first run trains and registers both models and makes
 * the ranker champion; a rerun on the same data cannot beat it and stays a challenger, saying why.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoCatalog } from '../demo/demo-catalog';
import { manifestSchema } from '../registry/registry';

const BIN = resolve('bin/fashionml.mjs');
let root: string;
let dataDir: string;

function fashionml(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fashionml-pipeline-'));
  dataDir = join(root, 'data');
  const demo = await generateDemoCatalog(join(root, 'demo'), { items: 160, shoppers: 40 });
  const ingest = fashionml('ingest', '--catalog', join(root, 'demo'), '--interactions', demo.interactionsCsv);
  expect(ingest.code, ingest.out).toBe(0);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fashionml pipeline', () => {
  it('trains, registers with metrics and lineage, and gates the champion alias', () => {
    const first = fashionml('pipeline', '--encoder-budget', '4');
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/Registered image-encoder@1/);
    expect(first.out).toMatch(/fashion-ranker@1 is the new champion/);
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dataDir, 'registry', 'manifest.json'), 'utf8')));
    expect(manifest.catalog?.version).toBe(1);
    expect(manifest.aliases.champion).toEqual({ model: 'fashion-ranker', version: 1 });
    const ranker = manifest.models.find((m) => m.id === 'fashion-ranker' && m.version === 1);
    expect(ranker?.inputs).toMatchObject({ catalogVersion: 1, imageEncoder: 'image-encoder@1' });
    // The demo's interaction log is evaluated with time: a test window after a cut, the catalog as it stood then.
    expect(String(ranker?.inputs.evaluationData)).toMatch(/^real-shop-eval\/\d+;catalog=.*;cut=/);
    expect(ranker?.lineage).toMatchObject({ dataVersion: 1, parent: null });
    expect(ranker?.metrics.map12).toBeGreaterThan(ranker?.metrics['popularity.map12'] ?? 1);
    expect(ranker?.metrics.recall12).toBeGreaterThan(ranker?.metrics['popularity.recall12'] ?? 1);
    expect(ranker?.files.map((f) => f.name)).toContain('ranker.json');
    const encoder = manifest.models.find((m) => m.id === 'image-encoder');
    expect(encoder?.files.map((f) => f.name).sort()).toEqual(['model.json', 'weights.bin']);
    expect(encoder?.metrics.p10Type).toBeGreaterThan(0);
    expect(encoder?.inputs.embeddingDim).toBe(64);

    // Same data, same seed, reusing the encoder: identical figures cannot beat the champion.
    const second = fashionml('pipeline', '--encoder-budget', '0');
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/Reusing image-encoder@1/);
    expect(second.out).toMatch(/fashion-ranker@2 stays a challenger; champion is still fashion-ranker@1/);
    const after = manifestSchema.parse(JSON.parse(readFileSync(join(dataDir, 'registry', 'manifest.json'), 'utf8')));
    expect(after.aliases.champion).toEqual({ model: 'fashion-ranker', version: 1 });
    expect(after.aliases.challenger).toEqual({ model: 'fashion-ranker', version: 2 });
    const second2 = after.models.find((m) => m.id === 'fashion-ranker' && m.version === 2);
    expect(second2?.lineage.parent).toBe('fashion-ranker@1');
    // The rerun is measured on the same held-out events, so the comparison is like with like.
    expect(second2?.inputs.evaluationData).toBe(ranker?.inputs.evaluationData);
  }, 300_000);

  it('says what to do when there is nothing to train on', () => {
    const empty = spawnSync(process.execPath, [BIN, '--data-dir', join(root, 'empty'), 'train'], { encoding: 'utf8' });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/Nothing to train on: ingest a catalog first/);
  });
});
