import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { terminalProgress } from './cli/progress';
import { dataPaths } from './config';
import type { DataPaths } from './config';
import { generateDemoCatalog } from './demo/demo-catalog';
import { SPLIT_MODELS, evaluateSplit } from './evaluate/split-evaluate';
import { addExperimentsCommands, experimentsDbPath } from './experiments/cli';
import { ExperimentStore } from './experiments/store';
import { buildAppServer, closeOnSignals } from './http/app';
import { ingestCatalog } from './ingest/ingest-catalog';
import type { IngestSummary } from './ingest/ingest-catalog';
import { FatalImportError } from './ingest/types';
import { DEFAULT_GATE, REAL_LOG_GATE } from './pipeline/gate';
import { championOf, runPipeline, trainModels } from './pipeline/pipeline';
import type { PipelineSummary, TrainOptions } from './pipeline/pipeline';
import { batchRecommend, checkBatchK, DEFAULT_BATCH_K, MAX_BATCH_K, PARALLEL_MIN_USERS, parseAsOf } from './recommend/batch-recommend';
import { Registry } from './registry/registry';
import { FeatureStore } from './store/feature-store';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer of 0 or more');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function batchK(value: string): number {
  const n = Number(value);
  try {
    checkBatchK(n);
  } catch {
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_BATCH_K}`);
  }
  return n;
}

function isoDate(value: string): number {
  try {
    return parseAsOf(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

interface ServeOptions {
  host: string;
  port: number;
  app: string;
  logLevel: string;
  dataDir?: string;
}

function printIngest(summary: IngestSummary): void {
  const c = summary.catalog;
  const reasons = (byReason: Record<string, number>) =>
    Object.entries(byReason)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ') || 'none';
  console.log(`Catalog version ${summary.version.version}: ${c.accepted} items accepted, ${c.quarantined} quarantined of ${c.rowsRead} rows read (${reasons(c.byReason)})`);
  if (summary.images) {
    const i = summary.images;
    console.log(
      `Images: ${i.processed} processed, ${i.problems} problems, ${i.duplicateGroups} groups of byte-identical photos; ` +
        `${i.renditions} with a product-page rendition (${(i.renditionBytes / 1e6).toFixed(1)} MB)`,
    );
  }
  if (summary.interactions) {
    const i = summary.interactions;
    console.log(`Interactions: ${i.accepted} accepted, ${i.quarantined} quarantined of ${i.rowsRead} rows (${reasons(i.byReason)})`);
  }
  for (const warning of summary.report.warnings) console.log(`warning: ${warning}`);
  console.log(`Quality report: ${summary.report.html}`);
}

interface TrainFlags {
  catalogVersion?: number;
  encoderBudget: number;
  seed: number;
  evaluationSeed?: number;
  imageDim?: number;
  shoppers?: number;
}

function addTrainOptions(command: Command): Command {
  return command
    .option('--catalog-version <n>', 'catalog version to train on (default: the latest)', positiveInt)
    .option('--encoder-budget <seconds>', 'seconds of image-encoder training on wasm; 0 reuses the newest registered encoder', nonNegativeInt, 120)
    .option('--seed <n>', 'model seed (initialisation, augmentation)', nonNegativeInt, 42)
    .option('--evaluation-seed <n>', 'seeds the simulated shoppers and the held-out split, so versions are compared on the same events', nonNegativeInt, 42)
    .option('--image-dim <n>', 'image embedding size (64 keeps the synced catalog vectors small)', positiveInt, 64)
    .option('--shoppers <n>', 'simulated shoppers when the catalog has no interaction log', positiveInt);
}

function trainOptions(paths: DataPaths, store: FeatureStore, flags: TrainFlags): TrainOptions {
  return {
    paths,
    store,
    registry: new Registry(paths.registry),
    ...(flags.catalogVersion ? { catalogVersion: flags.catalogVersion } : {}),
    encoderBudgetSeconds: flags.encoderBudget,
    seed: flags.seed,
    ...(flags.evaluationSeed !== undefined ? { evaluationSeed: flags.evaluationSeed } : {}),
    ...(flags.imageDim ? { imageDim: flags.imageDim } : {}),
    ...(flags.shoppers ? { shoppers: flags.shoppers } : {}),
    log: (line) => console.log(line),
  };
}

function printPipeline(summary: PipelineSummary): void {
  const name = `${summary.ranker.id}@${summary.ranker.version}`;
  if (summary.alias === 'champion') {
    console.log(`${name} is the new champion${summary.previousChampion ? ` (was ${summary.previousChampion})` : ''}:`);
    summary.decision.reasons.forEach((r) => console.log(`  ${r}`));
  } else {
    console.log(`${name} stays a challenger; champion is still ${summary.previousChampion ?? 'unset'} because:`);
    summary.decision.failures.forEach((r) => console.log(`  ${r}`));
  }
}

function publishLatest(paths: DataPaths, store: FeatureStore, version?: number): void {
  const target = version ?? store.latestVersion()?.version;
  if (target === undefined) throw new Error('Nothing to publish: ingest a catalog first (fashionml ingest --catalog DIR)');
  const registry = new Registry(paths.registry);
  const entry = registry.publishCatalog(store, target);
  const manifest = registry.manifest();
  console.log(
    `Published catalog version ${entry.version} (${entry.itemCount} items, snapshot ${entry.snapshot.sha256.slice(0, 12)}…, ` +
      `${(entry.snapshot.size / 1e6).toFixed(2)} MB, ${entry.deltas.length} deltas); manifest sequence ${manifest.sequence}`,
  );
}

async function serve(options: ServeOptions): Promise<void> {
  const paths = dataPaths(options.dataDir);
  const adminToken = process.env.FASHIONML_ADMIN_TOKEN;
  const registry = new Registry(paths.registry);
  const experiments = ExperimentStore.open(experimentsDbPath(paths));
  const app = await buildAppServer({
    appDir: options.app,
    logger: { level: options.logLevel },
    api: { registry, thumbsDir: paths.thumbs, photosDir: paths.photos, ...(adminToken ? { adminToken } : {}) },
    experiments: { registry, store: experiments },
  });
  app.addHook('onClose', async () => experiments.close());
  closeOnSignals(app);
  const address = await app.listen({ host: options.host, port: options.port });
  console.log(`FashionML is being served at ${address} (data: ${paths.root})`);
}

function addServeOptions(command: Command): Command {
  return command
    .option('--host <host>', 'address to listen on', process.env.FASHIONML_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, Number(process.env.FASHIONML_PORT ?? 8080))
    .option('--app <dir>', 'the built app (vite build output)', 'dist')
    .option('--log-level <level>', 'fatal, error, warn, info (one line per request) or debug', process.env.FASHIONML_LOG_LEVEL ?? 'info');
}

/** The `fashionml` command. */
export function buildCli(): Command {
  const program = new Command('fashionml')
    .description('FashionML: ingest catalogs, publish models and serve on-device fashion recommendations.')
    .option('--data-dir <dir>', 'where the feature store, registry, images and reports live (env FASHIONML_DATA_DIR)');

  const dataDir = () => program.opts<{ dataDir?: string }>().dataDir;

  program
    .command('ingest')
    .description('Read a catalog (and optionally interactions), check every row, and store it as a new catalog version.')
    .requiredOption('--catalog <path>', 'Kaggle-layout folder (styles.csv + images/), or a CSV / JSON Lines file with --mapping')
    .option('--mapping <file>', 'field mapping (JSON) for another shop\'s export')
    .option('--interactions <file>', 'interactions (CSV / JSON Lines: user,item,type,timestamp[,weight])')
    .option('--interactions-mapping <file>', 'column mapping for the interactions file')
    .option('--no-images', 'do not read product photos')
    .action(async (options: { catalog: string; mapping?: string; interactions?: string; interactionsMapping?: string; images: boolean }) => {
      const paths = dataPaths(dataDir());
      const store = FeatureStore.open(paths.featureStore);
      try {
        printIngest(
          await ingestCatalog({
            catalog: options.catalog,
            ...(options.mapping ? { mapping: options.mapping } : {}),
            ...(options.interactions ? { interactions: options.interactions } : {}),
            ...(options.interactionsMapping ? { interactionsMapping: options.interactionsMapping } : {}),
            skipImages: !options.images,
            dataDir: paths.root,
            store,
            progress: terminalProgress(),
          }),
        );
      } finally {
        store.close();
      }
    });

  program
    .command('publish')
    .description('Publish a catalog version (default: the latest) as content-addressed blobs named by the manifest.')
    .option('--version <n>', 'catalog version to publish', positiveInt)
    .action((options: { version?: number }) => {
      const paths = dataPaths(dataDir());
      const store = FeatureStore.open(paths.featureStore);
      try {
        publishLatest(paths, store, options.version);
      } finally {
        store.close();
      }
    });

  program
    .command('evaluate')
    .description('Train on a split folder and write top-K recommendations, so any other tool can score them.')
    .requiredOption('--split <dir>', 'folder with train.csv (user,item,rating,timestamp), test.csv, items.csv and optionally valid.csv (tuning only)')
    .requiredOption('--out <file>', 'where to write user,item,rank,score (rank 1 = best)')
    .option('--k <n>', 'recommendations per test user', positiveInt, 100)
    .option('--model <name>', 'als-spectral (the served model: ALS-ν + spectral, ratings as confidences, tuned on valid.csv when present), als (ALS-ν, binary) or popularity', 'als-spectral')
    .action((options: { split: string; out: string; k: number; model: string }) => {
      const model = SPLIT_MODELS.find((m) => m === options.model);
      if (!model) throw new Error(`--model must be one of ${SPLIT_MODELS.join(', ')}, not ${JSON.stringify(options.model)}`);
      const result = evaluateSplit(options.split, { out: options.out, k: options.k, model });
      console.log(
        `Wrote ${result.rows} recommendations (top ${result.k}) for ${result.users} users to ${result.out}: ` +
          `model ${result.model}, fit ${result.fitSeconds.toFixed(2)} s` +
          (result.validNdcg === null ? '' : `, validation NDCG@${result.k} ${result.validNdcg.toFixed(4)}`) +
          `; ${result.coldUsers} users without training history got popular items, ${result.coldItems} items without interactions scored 0`,
      );
    });

  program
    .command('recommend')
    .description("Write the champion ranker's top-K for every shopper (or those in --users) as user,item,rank CSV, ranked as the device ranks.")
    .requiredOption('--out <file>', 'where to write user,item,rank (rank 1 = best); replaced only when the run succeeds')
    .option('--k <n>', `recommendations per user (1 to ${MAX_BATCH_K})`, batchK, DEFAULT_BATCH_K)
    .option('--users <file>', 'CSV with a "user" column: recommend for these users (unknown ones get the new-shopper feed) instead of every user with stored interactions')
    .option('--as-of <date>', 'ISO 8601 date or date-time: only events up to it count, and recency is measured from it (default: all events, from each user\'s last one)', isoDate)
    .option('--threads <n>', `worker threads that rank, each with its own engine (default: one per core from ${PARALLEL_MIN_USERS} users, else 1)`, positiveInt)
    .action(async (options: { out: string; k: number; users?: string; asOf?: number; threads?: number }) => {
      const paths = dataPaths(dataDir());
      const store = FeatureStore.open(paths.featureStore);
      try {
        const result = await batchRecommend({
          store,
          registry: new Registry(paths.registry),
          out: options.out,
          k: options.k,
          ...(options.users !== undefined ? { usersFile: options.users } : {}),
          ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
          ...(options.threads !== undefined ? { threads: options.threads } : {}),
          progress: terminalProgress(),
        });
        const rate = result.recommendSeconds > 0 ? Math.round(result.users / result.recommendSeconds) : result.users;
        console.log(
          `Wrote ${result.rows} recommendations (top ${result.k}) for ${result.users} users to ${result.out}: ` +
            `${result.ranker} on catalog version ${result.catalogVersion} (${result.items} items), ${rate} users/s on ${result.threads} thread${result.threads === 1 ? '' : 's'}; ` +
            `${result.popular} users got the new-shopper feed` +
            (options.users !== undefined ? ` (${result.unknownUsers} unknown to the feature store)` : ''),
        );
      } finally {
        store.close();
      }
    });

  addTrainOptions(
    program
      .command('train')
      .description('Train the image encoder and the hybrid ranker on a catalog version and register both with their metrics (aliases unchanged).'),
  ).action(async (flags: TrainFlags) => {
    const paths = dataPaths(dataDir());
    const store = FeatureStore.open(paths.featureStore);
    try {
      await trainModels(trainOptions(paths, store, flags));
    } finally {
      store.close();
    }
  });

  addTrainOptions(
    program
      .command('pipeline')
      .description('Publish the catalog, train and register the models, and move the champion alias only when the new ranker passes the gate.')
      .option(
        '--gate-metrics <names>',
        `comma-separated metrics the candidate must beat the champion and popularity on (default ${REAL_LOG_GATE.metrics.join(',')} for a real log evaluated with time, else ${DEFAULT_GATE.metrics.join(',')})`,
      )
      .option('--min-gain <x>', 'how much better than the champion each metric must be', Number, DEFAULT_GATE.minGain),
  ).action(async (flags: TrainFlags & { gateMetrics?: string; minGain: number }) => {
    const paths = dataPaths(dataDir());
    const store = FeatureStore.open(paths.featureStore);
    try {
      const metrics = flags.gateMetrics?.split(',').map((m) => m.trim()).filter(Boolean);
      printPipeline(await runPipeline({ ...trainOptions(paths, store, flags), gate: { metrics, minGain: flags.minGain } }));
    } finally {
      store.close();
    }
  });

  program
    .command('gc')
    .description('Delete registry blobs that no alias, current catalog or recent version needs.')
    .option('--keep-models <n>', 'newest versions of each model to keep', positiveInt, 3)
    .option('--keep-catalogs <n>', 'older catalog versions to keep besides the current one', positiveInt, 3)
    .action((options: { keepModels: number; keepCatalogs: number }) => {
      const registry = new Registry(dataPaths(dataDir()).registry);
      const removed = registry.collectGarbage({ modelVersions: options.keepModels, catalogVersions: options.keepCatalogs });
      const bytes = removed.reduce((sum, b) => sum + b.size, 0);
      console.log(`Removed ${removed.length} blobs (${(bytes / 1e6).toFixed(2)} MB)`);
    });

  program
    .command('versions')
    .description('List the catalog versions in the feature store.')
    .action(() => {
      const store = FeatureStore.open(dataPaths(dataDir()).featureStore);
      try {
        console.table(store.versions().map((v) => ({ version: v.version, created: v.createdAt, items: v.itemCount, quarantined: v.rowsQuarantined, source: v.source })));
      } finally {
        store.close();
      }
    });

  addExperimentsCommands(program, () => dataPaths(dataDir()));

  addServeOptions(program.command('serve').description('Serve the built web app and the sync API over HTTP.')).action(
    (options: Omit<ServeOptions, 'dataDir'>) => serve({ ...options, ...(dataDir() ? { dataDir: dataDir() } : {}) }),
  );

  addServeOptions(
    program
      .command('start')
      .description('Get a catalog in (the given one, or generated demo data when there is none), publish it, train the models when the champion does not cover it, and serve the app.')
      .option('--catalog <dir>', 'a Kaggle-layout catalog folder to use instead of the generated demo catalog')
      .option('--encoder-budget <seconds>', 'seconds of image-encoder training when models must be trained', nonNegativeInt, 120),
  ).action(async (options: Omit<ServeOptions, 'dataDir'> & { catalog?: string; encoderBudget: number }) => {
    const paths = dataPaths(dataDir());
    const store = FeatureStore.open(paths.featureStore);
    try {
      if (options.catalog || !store.latestVersion()) {
        let catalog = options.catalog;
        let interactions: string | undefined;
        if (!catalog) {
          console.log(`No catalog given: generating the labelled demo catalog in ${paths.demoSource}`);
          const demo = await generateDemoCatalog(paths.demoSource);
          catalog = paths.demoSource;
          interactions = demo.interactionsCsv;
        } else if (existsSync(join(catalog, 'interactions.csv'))) {
          interactions = join(catalog, 'interactions.csv');
        }
        printIngest(
          await ingestCatalog({ catalog, ...(interactions ? { interactions } : {}), dataDir: paths.root, store, progress: terminalProgress() }),
        );
      }
      const registry = new Registry(paths.registry);
      if (registry.manifest().catalog?.version !== store.latestVersion()?.version) publishLatest(paths, store);
      const champion = championOf(registry.manifest());
      if (!champion || champion.inputs.catalogVersion !== store.latestVersion()?.version) {
        console.log('Training the models for this catalog (fashionml pipeline; --encoder-budget sets the image-encoder time):');
        printPipeline(await runPipeline(trainOptions(paths, store, { encoderBudget: options.encoderBudget, seed: 42 })));
      }
    } finally {
      store.close();
    }
    await serve({ ...options, dataDir: paths.root });
  });

  return program;
}

await buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const message = error instanceof FatalImportError || error instanceof Error ? error.message : String(error);
    console.error(`fashionml: ${message}`);
    process.exit(1);
  });
