/**
 * The fashion ranker on a real shop's purchases (../shared/data/hm-sample, H&M's export layout),
 * evaluated with time (server/evaluate/real-shop-eval.ts): the last `--windows` windows of
 * `--days` days of the log, each trained on the weeks before its cut and tuned on the window just
 * before it, with the catalog as it stood at the cut. The served ranker (the q8 pack through the
 * device engine, `fashionml recommend`'s request) beside every baseline on the same split: MAP@12,
 * Recall@12, NDCG@12, HR@12 over all test customers and over those with history, the share of
 * hits new to the customer, per window and as mean ± standard deviation over the windows.
 * Prints a table and writes bench-results/real-shop.json.
 *
 *   npm run bench:real-shop
 *   options: --windows 3  --days 28  --data DIR (default ../shared/data/hm-sample)
 *            --skip N (leave out the last N windows: `--skip 3` scores the tuning windows before them)
 *            --catalog-mapping FILE --interactions-mapping FILE (default examples/hm-sample/*.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { CatalogItem, InteractionEvent } from '../models/catalog/item';
import { DAY_MS } from '../models/hybrid/fashion-hybrid';
import { evaluateRealShop, REAL_SHOP_BASELINES, REAL_SHOP_EVAL_PROTOCOL } from '../server/evaluate/real-shop-eval';
import type { RealShopEvalResult, RealShopModel } from '../server/evaluate/real-shop-eval';
import { importGenericCatalog } from '../server/ingest/generic-catalog';
import { importInteractions, loadInteractionMapping } from '../server/ingest/interactions';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const dataDir = resolve(arg('--data', join(process.cwd(), '..', 'shared', 'data', 'hm-sample')));
const catalogMapping = resolve(arg('--catalog-mapping', 'examples/hm-sample/catalog-mapping.json'));
const interactionsMapping = resolve(arg('--interactions-mapping', 'examples/hm-sample/interactions-mapping.json'));
const windows = Number(arg('--windows', '3'));
const days = Number(arg('--days', '28'));
const skip = Number(arg('--skip', '0'));

const LABELS: Record<RealShopModel, string> = {
  served: 'FashionML (served pack, device engine)',
  popularity: 'popularity, all weeks',
  popularityWeek: 'popularity, last week',
  repurchase: 'repurchase + popularity',
  repurchaseVariants: 'repurchase + same variant group + popularity',
  als: 'implicit ALS (tuned on the tuning window)',
  attributeProfile: 'attribute-profile content model',
};
const MODELS: RealShopModel[] = ['served', ...REAL_SHOP_BASELINES];

async function load(): Promise<{ items: CatalogItem[]; events: InteractionEvent[]; seconds: number }> {
  const t = performance.now();
  const catalog = await importGenericCatalog(join(dataDir, 'articles.csv'), catalogMapping);
  if (catalog.quarantined.length > 0) console.warn(`${catalog.quarantined.length} articles quarantined (first: ${catalog.quarantined[0]!.message})`);
  const mapping = await loadInteractionMapping(interactionsMapping);
  const events = await importInteractions(join(dataDir, 'transactions.csv'), { knownItems: new Set(catalog.accepted.map((i) => i.id)), mapping });
  if (events.quarantined.length > 0) console.warn(`${events.quarantined.length} purchases quarantined (first: ${events.quarantined[0]!.message})`);
  return { items: catalog.accepted, events: events.accepted, seconds: (performance.now() - t) / 1000 };
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const sd = (v: number[]) => {
  const m = mean(v);
  return v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
};

async function main(): Promise<void> {
  const { items, events, seconds: loadSeconds } = await load();
  const latest = events.reduce((t, e) => Math.max(t, e.timestamp), -Infinity);
  // Windows end at the day after the last event, as the export's own last day closes.
  const end = Math.floor(latest / DAY_MS) * DAY_MS + DAY_MS;
  const cuts = Array.from({ length: windows }, (_, w) => end - (windows + skip - w) * days * DAY_MS);
  console.log(`${items.length} articles, ${events.length} purchases, ${new Set(events.map((e) => e.userId)).size} customers; ${windows} windows of ${days} days ending ${new Date(end).toISOString().slice(0, 10)}`);

  const results: (Omit<RealShopEvalResult, 'fit' | 'served'> & { seconds: number })[] = [];
  for (const cut of cuts) {
    const t = performance.now();
    const r = await evaluateRealShop({ items, events, cut, days, onProgress: (stage) => process.stderr.write(`  ${new Date(cut).toISOString().slice(0, 10)}: ${stage}\n`) });
    const { fit: _fit, served: _served, ...rest } = r;
    void _fit;
    void _served;
    results.push({ ...rest, seconds: (performance.now() - t) / 1000 });
  }

  const f = (x: number) => x.toFixed(4);
  for (const r of results) {
    console.log(
      `\nWindow ${r.window.cut.slice(0, 10)} → ${r.window.end.slice(0, 10)}: ${r.counts.testCustomers} customers (${r.counts.testCustomersWithHistory} with history), ${r.counts.testPairs} (customer, article) pairs, ${r.counts.unreachablePairs} of them articles not sold by the cut; catalog at the cut ${r.counts.catalogAtCut}; ${r.seconds.toFixed(1)} s`,
    );
    console.log('| model | MAP@12 | Recall@12 | NDCG@12 | HR@12 | MAP@12 (with history) | new-article share of hits | hits |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const m of MODELS) {
      const x = r.models[m];
      if (!x) continue;
      console.log(`| ${LABELS[m]} | ${f(x.all.map12)} | ${f(x.all.recall12)} | ${f(x.all.ndcg12)} | ${f(x.all.hr12)} | ${f(x.withHistory.map12)} | ${x.newHitShare.toFixed(2)} | ${x.hits} |`);
    }
    if (r.alsTuned) console.log(`ALS tuned on the tuning window: ${r.alsTuned.factors} factors, λ ${r.alsTuned.regularization}, α ${r.alsTuned.alpha} (MAP@12 ${f(r.alsTuned.tuningMap12)})`);
  }

  const summary: Record<string, Record<string, { mean: number; sd: number }>> = {};
  console.log(`\nMean ± standard deviation over the ${results.length} windows`);
  console.log('| model | MAP@12 | Recall@12 | NDCG@12 | HR@12 | new-article share |');
  console.log('|---|---|---|---|---|---|');
  for (const m of MODELS) {
    if (!results.every((r) => r.models[m])) continue;
    const get = (pick: (x: NonNullable<RealShopEvalResult['models'][RealShopModel]>) => number) => results.map((r) => pick(r.models[m]!));
    const row = {
      map12: get((x) => x.all.map12),
      recall12: get((x) => x.all.recall12),
      ndcg12: get((x) => x.all.ndcg12),
      hr12: get((x) => x.all.hr12),
      newHitShare: get((x) => x.newHitShare),
    };
    summary[m] = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, { mean: mean(v), sd: sd(v) }]));
    const cell = (v: number[]) => `${f(mean(v))} ± ${f(sd(v))}`;
    console.log(`| ${LABELS[m]} | ${cell(row.map12)} | ${cell(row.recall12)} | ${cell(row.ndcg12)} | ${cell(row.hr12)} | ${mean(row.newHitShare).toFixed(2)} |`);
  }
  const best = (metric: 'map12' | 'recall12') =>
    REAL_SHOP_BASELINES.filter((b) => summary[b]).reduce((a, b) => (summary[b]![metric]!.mean > summary[a]![metric]!.mean ? b : a), REAL_SHOP_BASELINES[0]);
  const lift = (metric: 'map12' | 'recall12') => {
    const b = best(metric);
    return { baseline: b, ratio: summary.served![metric]!.mean / summary[b]![metric]!.mean };
  };
  const liftMap = lift('map12');
  const liftRecall = lift('recall12');
  console.log(`\nServed vs the best baseline (mean over windows): MAP@12 ×${liftMap.ratio.toFixed(2)} (${LABELS[liftMap.baseline]}), Recall@12 ×${liftRecall.ratio.toFixed(2)} (${LABELS[liftRecall.baseline]})`);

  const out = {
    bench: 'real-shop',
    protocol: REAL_SHOP_EVAL_PROTOCOL,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    backend: 'js (plain-JS scorer, the device engine in Node)',
    data: { dir: dataDir, articles: items.length, purchases: events.length, loadSeconds },
    windowsSkipped: skip,
    windows: results,
    summary,
    lift: { map12: liftMap, recall12: liftRecall },
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/real-shop.json', JSON.stringify(out, null, 2));
  console.log('wrote bench-results/real-shop.json');
}

await main();
