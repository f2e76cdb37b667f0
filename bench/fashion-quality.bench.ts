/**
 * Fashion ranker quality on the real catalog (../shared/data/myntra-fashion-small) with SIMULATED
 * shoppers (the catalog has no interaction log): hybrid (served: hybrid score + learned re-ranker),
 * hybrid score alone (both ranked by the device's engine on the q8 pack), pure CF and popularity on
 * NDCG@10 / Recall@20 (time-based split per shopper),
 * catalog coverage@10, novelty, the cold-start slice (AUC) and the personalisation check; plus the
 * content model's retrieval (same article type, same type and colour) for the reductions compared,
 * and the pack's size. Prints a table and writes bench-results/fashion-quality.json.
 *
 *   npm run bench:fashion                       # without image embeddings
 *   npm run bench:fashion -- --encoder DIR      # with a trained image encoder (model.json + weights.bin)
 *   options: --seeds 42,1,2  --shoppers N (default: the trainer's, 3,000 on the 35k catalog)
 *            --cache DIR (packed encoder input, default .data/image-encoder)
 *            --pack-encoding q8|f32 (the served vectors as published, default q8, or float32)
 *
 * Each seed draws its own simulated shoppers, split and model initialisation, so the spread covers
 * all three.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ContentModel } from '../models/content/content-model';
import type { CatalogItem } from '../models/catalog/item';
import { evaluateFashion, evaluationFingerprint, EVAL_MODELS } from '../server/evaluate/fashion-eval';
import { importKaggleStyles } from '../server/ingest/kaggle-catalog';
import { defaultShoppers, simulateCatalogShoppers, trainFashionRanker } from '../server/train/fashion-ranker';

const STYLES = join(process.cwd(), '..', 'shared', 'data', 'myntra-fashion-small', 'styles.csv');

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Image embeddings of the catalog rows from a saved encoder, on TF.js wasm (rows without a photo stay zero). */
async function imageEmbeddings(dir: string, items: CatalogItem[], cacheDir: string): Promise<{ dim: number; vectors: Float32Array; encoder: string; seconds: number }> {
  const { prepareBackend } = await import('../server/train/image-encoder');
  const { loadLabelledImages } = await import('../server/train/image-data');
  const { loadEncoder } = await import('../models/image/serialize');
  const { embed } = await import('../models/image/encoder');
  const tf = await prepareBackend('wasm');
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weights = readFileSync(join(dir, 'weights.bin'));
  const encoder = loadEncoder(tf, modelJson, weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength));
  const data = await loadLabelledImages({ stylesCsv: STYLES, cacheDir, size: encoder.config.inputSize });
  const t = performance.now();
  const embedded = await embed(tf, encoder, data.images, 256);
  const seconds = (performance.now() - t) / 1000;
  const dim = encoder.config.embeddingDim;
  const row = new Map(items.map((item, i) => [item.id, i]));
  const vectors = new Float32Array(items.length * dim);
  data.ids.forEach((id, r) => {
    const i = row.get(id);
    if (i !== undefined) vectors.set(embedded.subarray(r * dim, (r + 1) * dim), i * dim);
  });
  const version = typeof modelJson.version === 'number' ? modelJson.version : 1;
  return { dim, vectors, encoder: `image-encoder@${version}`, seconds };
}

/** P@10 of same article type and same type + colour over `queries` evenly spaced items. */
function contentRetrieval(items: CatalogItem[], vectors: Float32Array, dim: number, queries = 1000): { type: number; typeColour: number } {
  const n = items.length;
  const scores = new Float32Array(n);
  let type = 0;
  let typeColour = 0;
  for (let q = 0; q < queries; q++) {
    const qi = Math.floor((q * n) / queries);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += vectors[qi * dim + c]! * vectors[i * dim + c]!;
      scores[i] = s;
    }
    scores[qi] = -Infinity;
    const top = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 10);
    for (const i of top) {
      if (items[i]!.articleType !== items[qi]!.articleType) continue;
      type++;
      if (items[i]!.colour === items[qi]!.colour) typeColour++;
    }
  }
  return { type: type / queries / 10, typeColour: typeColour / queries / 10 };
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const spread = (v: number[]) => (v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1)) : 0);

async function main(): Promise<void> {
  if (!existsSync(STYLES)) {
    console.log(`bench:fashion: ${STYLES} is absent; nothing to measure.`);
    return;
  }
  const seeds = (arg('--seeds', '42') as string).split(',').map(Number);
  const encoderDir = arg('--encoder');
  const packEncoding = arg('--pack-encoding', 'q8') as 'q8' | 'f32';
  if (packEncoding !== 'q8' && packEncoding !== 'f32') throw new Error(`--pack-encoding must be q8 or f32, got "${String(packEncoding)}"`);
  const items = (await importKaggleStyles(STYLES)).accepted;
  // Stands in for the feature store's content hash in the evaluation-data fingerprint.
  const catalogHash = `styles.csv:sha256:${createHash('sha256').update(readFileSync(STYLES)).digest('hex')}`;
  const shoppers = Number(arg('--shoppers', String(defaultShoppers(items.length))));
  console.log(`catalog: ${items.length} items; ${shoppers} SIMULATED shoppers per seed; seeds ${seeds.join(',')}; ${cpus().length} CPUs`);

  // Content model: the reductions compared by retrieval (no interactions involved).
  const content: Record<string, { type: number; typeColour: number; fitSeconds: number; jsonBytes: number }> = {};
  let model: ContentModel | undefined;
  for (const [name, options] of [
    ['svd-64', { dim: 64 }],
    ['svd-32', { dim: 32 }],
    ['random-64', { dim: 64, reduction: 'random' as const }],
  ] as const) {
    const t = performance.now();
    const m = ContentModel.fit(items, { ...options, seed: 1 });
    const fitSeconds = (performance.now() - t) / 1000;
    content[name] = { ...contentRetrieval(items, m.embedItems(items), m.dim), fitSeconds, jsonBytes: JSON.stringify(m.toJSON()).length };
    if (name === 'svd-64') model = m;
    console.log(`content ${name}: P@10 type ${content[name].type.toFixed(3)}, type+colour ${content[name].typeColour.toFixed(3)}, fit ${fitSeconds.toFixed(1)} s, ${content[name].jsonBytes} bytes`);
  }
  const t0 = performance.now();
  const contentVectors = { vectors: model!.embedItems(items), dim: model!.dim };
  const embedContentMs = performance.now() - t0;

  const image = encoderDir ? await imageEmbeddings(resolve(encoderDir), items, resolve(arg('--cache', '.data/image-encoder')!)) : undefined;
  if (image) console.log(`image embeddings: ${image.encoder}, ${image.dim} dims, ${(items.length / image.seconds).toFixed(0)} images/s on wasm`);

  const runs: {
    seed: number;
    evaluationData: string;
    events: number;
    metrics: Record<string, number>;
    seconds: { simulate: number; simulateCpu: number; evaluate: number; evaluateCpu: number };
    rerank: unknown;
  }[] = [];
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  for (const seed of seeds) {
    let t = performance.now();
    let cpu = process.cpuUsage();
    const { personas, events } = simulateCatalogShoppers(items, shoppers, seed);
    const simulate = (performance.now() - t) / 1000;
    const simulateCpu = cpuSeconds(cpu);
    t = performance.now();
    cpu = process.cpuUsage();
    const result = await evaluateFashion({
      items,
      events,
      personas,
      content: contentVectors,
      image,
      options: { seed, fit: { seed }, packEncoding },
      onProgress: (stage) => console.log(`  seed ${seed}: ${stage} (evaluation at ${((performance.now() - t) / 1000).toFixed(1)} s)`),
    });
    const evaluate = (performance.now() - t) / 1000;
    const evaluateCpu = cpuSeconds(cpu);
    const evaluationData = evaluationFingerprint({ catalogContentHash: catalogHash, events, seed });
    runs.push({ seed, evaluationData, events: events.length, metrics: result.metrics, seconds: { simulate, simulateCpu, evaluate, evaluateCpu }, rerank: { check: result.fit.rerankCheck, ranker: result.fit.rerank } });
    console.log(
      `  seed ${seed}: ${events.length} simulated events; simulate ${simulate.toFixed(1)} s (${simulateCpu.toFixed(1)} s CPU), evaluate ${evaluate.toFixed(1)} s (${evaluateCpu.toFixed(1)} s CPU)`,
    );
    console.log(`  seed ${seed}: hybrid ndcg10 ${result.metrics.ndcg10!.toFixed(4)} recall20 ${result.metrics.recall20!.toFixed(4)} coldAuc ${result.metrics.coldAuc!.toFixed(4)}`);
  }

  // One pack for its size (what a device syncs besides the catalog rows).
  const packDir = await mkdtemp(join(tmpdir(), 'fashion-pack-'));
  const t = performance.now();
  await trainFashionRanker({ items, catalog: { version: 1, contentHash: 'bench' }, events: [], imageEmbeddings: image, outDir: packDir, seed: seeds[0], evaluationSeed: seeds[0], shoppers, skipEvaluation: true });
  const trainSeconds = (performance.now() - t) / 1000;
  const files: Record<string, number> = {};
  for (const file of await readdir(packDir)) files[file] = (await stat(join(packDir, file))).size;
  await rm(packDir, { recursive: true, force: true });
  const packBytes = Object.values(files).reduce((s, v) => s + v, 0);

  const metricNames = ['ndcg10', 'recall20', 'coverage10', 'novelty10', 'coldAuc'] as const;
  const table: Record<string, Record<string, string>> = {};
  for (const m of EVAL_MODELS) {
    table[m] = {};
    for (const name of metricNames) {
      const key = m === 'hybrid' ? name : `${m}.${name}`;
      const values = runs.map((r) => r.metrics[key]!);
      table[m][name] = `${mean(values).toFixed(4)} ± ${spread(values).toFixed(4)}`;
    }
  }
  console.log(`\nSIMULATED shoppers, ${items.length} items, ${image ? `with ${image.encoder} embeddings` : 'without image embeddings'} (mean ± sd over ${seeds.length} seed(s); served vectors ${packEncoding})`);
  console.table(table);
  const personal = ['typeShareBefore', 'typeShareAfter', 'typeColourShareBefore', 'typeColourShareAfter'].map((k) => [k, mean(runs.map((r) => r.metrics[`personal.${k}`]!)).toFixed(3)]);
  console.log('personalisation (share of top 20 matching the persona, simulated):', Object.fromEntries(personal));
  console.log(`pack: ${(packBytes / 1e6).toFixed(2)} MB`, files, `trained in ${trainSeconds.toFixed(1)} s; content vectors recomputed in ${embedContentMs.toFixed(0)} ms (Node)`);

  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    join('bench-results', 'fashion-quality.json'),
    JSON.stringify(
      {
        simulated: true,
        protocol: 'fashion-eval: time split per simulated shopper, cold items held out; hybrid and hybridScore ranked by the device engine (RecommenderEngine.feed, js scorer, q8 pack, diversity 0)',
        catalog: { items: items.length, source: 'myntra-fashion-small' },
        shoppers,
        seeds,
        packEncoding,
        machine: { cpus: cpus().length, node: process.version },
        image: image ? { encoder: image.encoder, dim: image.dim, imagesPerSecondWasm: items.length / image.seconds } : null,
        content,
        runs,
        table,
        pack: { bytes: packBytes, files, trainSeconds },
      },
      null,
      2,
    ),
  );
  console.log('wrote bench-results/fashion-quality.json');
}

await main();
