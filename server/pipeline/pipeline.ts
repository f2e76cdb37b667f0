/**
 * `fashionml train` and `fashionml pipeline`: from a catalog version in the feature store to
 * registered, evaluated model versions, and (pipeline) the `champion` alias moved only through
 * the gate.
 *
 *   catalog version ─┬─ photos ─ image encoder (train, held-out retrieval) ─ register image-encoder@N
 *                    │                 └─ embed every item ─┐
 *                    └─ interactions (or simulated shoppers) ┴─ hybrid ranker pack (evaluate) ─ register fashion-ranker@M
 *                                                                        └─ gate vs champion and popularity ─ alias
 *
 * Each registered version records its metrics and lineage (catalog version, code version, parent).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CatalogItem } from '../../models/catalog/item';
import { loadEncoder } from '../../models/image/serialize';
import type { EncoderModelJson } from '../../models/image/serialize';
import type { DataPaths } from '../config';
import type { Manifest, ModelVersion, Registry } from '../registry/registry';
import type { FeatureStore } from '../store/feature-store';
import { FASHION_RANKER_ID, trainFashionRanker } from '../train/fashion-ranker';
import { prepareBackend } from '../train/image-encoder';
import { decidePromotion, defaultGateFor } from './gate';
import type { GateDecision, GatePolicy } from './gate';
import { embedCatalog, loadCatalogPhotos, trainImageStep } from './image-step';

export const IMAGE_ENCODER_ID = 'image-encoder';

export interface TrainOptions {
  paths: DataPaths;
  store: FeatureStore;
  registry: Registry;
  /** Catalog version to train on (default: the latest). */
  catalogVersion?: number;
  /** Seconds of image-encoder training; 0 reuses the newest registered encoder (or trains none when there is none). */
  encoderBudgetSeconds: number;
  seed: number;
  /** Simulated shoppers when the catalog has no interactions (default: the trainer's). */
  shoppers?: number;
  /** Image embedding size (default 64, see image-step.ts). */
  imageDim?: number;
  /** Seeds the simulated shoppers and the held-out split (not the model), so versions are compared on the same events. */
  evaluationSeed?: number;
  log: (line: string) => void;
}

export interface TrainSummary {
  catalogVersion: number;
  encoder: ModelVersion | null;
  ranker: ModelVersion;
  simulated: boolean;
}

export interface PipelineSummary extends TrainSummary {
  decision: GateDecision;
  alias: 'champion' | 'challenger';
  previousChampion: string | null;
}

/** The code version recorded in lineage: the git commit when there is one, else the package version. */
export function codeVersion(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}+changes` : sha;
  } catch {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return `package ${pkg.version}`;
  }
}

function newest(manifest: Manifest, id: string): ModelVersion | undefined {
  return manifest.models.filter((m) => m.id === id).sort((a, b) => b.version - a.version)[0];
}

export function championOf(manifest: Manifest): ModelVersion | null {
  const alias = manifest.aliases.champion;
  return (alias && manifest.models.find((m) => m.id === alias.model && m.version === alias.version)) || null;
}

/** Trains the image encoder (or reuses one) and the ranker pack on a catalog version, and registers both. */
export async function trainModels(options: TrainOptions): Promise<TrainSummary> {
  const { store, registry, log } = options;
  const info = options.catalogVersion === undefined ? store.latestVersion() : store.version(options.catalogVersion);
  if (!info) {
    throw new Error(
      options.catalogVersion === undefined
        ? 'Nothing to train on: ingest a catalog first (fashionml ingest --catalog DIR)'
        : `Catalog version ${options.catalogVersion} is not in the feature store (fashionml versions lists them)`,
    );
  }
  const items: CatalogItem[] = store.items(info.version);
  const known = new Set(items.map((item) => item.id));
  const events = store.interactions().filter((e) => known.has(e.itemId));
  const code = codeVersion();
  const work = mkdtempSync(join(tmpdir(), 'fashionml-train-'));
  try {
    // 1. Image encoder: train on this version's photos, or reuse the newest registered one.
    const photos = await loadCatalogPhotos(options.paths.images, items);
    let encoder: ModelVersion | null = null;
    let imageEmbeddings: { dim: number; vectors: Float32Array; encoder: string } | undefined;
    const previousEncoder = newest(registry.manifest(), IMAGE_ENCODER_ID) ?? null;
    if (!photos) {
      log('No packed photos for this catalog version (ingested with --no-images?): the ranker trains without image features.');
    } else if (options.encoderBudgetSeconds > 0) {
      const dir = join(work, 'image-encoder');
      const step = await trainImageStep({
        photos,
        items,
        budgetSeconds: options.encoderBudgetSeconds,
        seed: options.seed,
        ...(options.imageDim ? { embeddingDim: options.imageDim } : {}),
        outDir: dir,
        log,
      });
      encoder = registry.registerModel({
        id: IMAGE_ENCODER_ID,
        kind: 'image-encoder',
        dir,
        inputs: { catalogVersion: info.version, inputSize: step.encoder.config.inputSize, embeddingDim: step.dim, photos: step.photos },
        metrics: step.metrics,
        dataVersion: info.version,
        codeVersion: code,
        parent: previousEncoder ? `${previousEncoder.id}@${previousEncoder.version}` : null,
      });
      log(`Registered ${encoder.id}@${encoder.version}`);
      imageEmbeddings = { dim: step.dim, vectors: step.embeddings, encoder: `${encoder.id}@${encoder.version}` };
    } else if (previousEncoder) {
      encoder = previousEncoder;
      const file = (name: string) => {
        const ref = previousEncoder.files.find((f) => f.name === name);
        if (!ref) throw new Error(`${previousEncoder.id}@${previousEncoder.version} has no ${name}`);
        return registry.blobs.read(ref.sha256);
      };
      await prepareBackend('wasm');
      const weights = file('weights.bin');
      const loaded = loadEncoder(tf, JSON.parse(file('model.json').toString('utf8')) as EncoderModelJson, Uint8Array.from(weights).buffer);
      log(`Reusing ${previousEncoder.id}@${previousEncoder.version} to embed ${photos.count} photos`);
      imageEmbeddings = { dim: loaded.config.embeddingDim, vectors: await embedCatalog(loaded, photos, items), encoder: `${previousEncoder.id}@${previousEncoder.version}` };
    } else {
      log('No image encoder registered and --encoder-budget 0: the ranker trains without image features.');
    }

    // 2. The ranker pack on the same catalog version.
    const dir = join(work, FASHION_RANKER_ID);
    const trained = await trainFashionRanker({
      items,
      catalog: { version: info.version, contentHash: info.contentHash },
      events,
      ...(imageEmbeddings ? { imageEmbeddings } : {}),
      outDir: dir,
      seed: options.seed,
      ...(options.evaluationSeed !== undefined ? { evaluationSeed: options.evaluationSeed } : {}),
      ...(options.shoppers ? { shoppers: options.shoppers } : {}),
      onProgress: (p) => log(`ranker ${p.stage}: ${p.message}`),
    });
    const champion = championOf(registry.manifest());
    const ranker = registry.registerModel({
      id: FASHION_RANKER_ID,
      kind: 'fashion-ranker',
      dir,
      inputs: {
        catalogVersion: info.version,
        ...(encoder ? { imageEncoder: `${encoder.id}@${encoder.version}` } : {}),
        interactions: trained.simulated ? 'simulated shoppers' : `${events.length} logged events`,
        // Names the held-out events the metrics come from; the gate compares only like with like.
        evaluationData: trained.evaluationData,
      },
      metrics: trained.metrics,
      dataVersion: info.version,
      codeVersion: code,
      parent: champion ? `${champion.id}@${champion.version}` : null,
    });
    const shown = Object.entries(trained.metrics)
      .filter(([name]) => !name.includes('.') && name !== 'simulated')
      .map(([name, value]) => `${name} ${value.toFixed(4)}`)
      .join(', ');
    log(`Registered ${ranker.id}@${ranker.version}${trained.simulated ? ' (evaluated on simulated shoppers)' : ''}: ${shown}`);
    return { catalogVersion: info.version, encoder, ranker, simulated: trained.simulated };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Publishes the catalog version when the manifest does not name it yet, trains and registers the
 * models, then moves `champion` only when the gate lets the new ranker through; otherwise it
 * becomes `challenger`, and the summary says why.
 */
export async function runPipeline(options: TrainOptions & { gate?: Partial<GatePolicy> }): Promise<PipelineSummary> {
  const { store, registry, log } = options;
  const target = options.catalogVersion ?? store.latestVersion()?.version;
  if (target !== undefined && registry.manifest().catalog?.version !== target) {
    const entry = registry.publishCatalog(store, target);
    log(`Published catalog version ${entry.version} (${entry.itemCount} items)`);
  }
  const previous = championOf(registry.manifest());
  const trained = await trainModels(options);
  const candidate = {
    name: `${trained.ranker.id}@${trained.ranker.version}`,
    metrics: trained.ranker.metrics,
    evaluationData: String(trained.ranker.inputs.evaluationData ?? ''),
  };
  const held = previous
    ? { name: `${previous.id}@${previous.version}`, metrics: previous.metrics, evaluationData: String(previous.inputs.evaluationData ?? '') }
    : null;
  // Unset fields follow the evaluation the candidate had (defaultGateFor).
  const gate: GatePolicy = { ...defaultGateFor(candidate.metrics), ...definedFields(options.gate ?? {}) };
  const decision = decidePromotion(candidate, held, gate);
  const alias = decision.promote ? 'champion' : 'challenger';
  registry.setAlias(alias, trained.ranker.id, trained.ranker.version);
  return { ...trained, decision, alias, previousChampion: previous ? `${previous.id}@${previous.version}` : null };
}

function definedFields<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
