/**
 * The ranking engine's scoring on WebGPU beside wasm (and the plain-JS scorer), in one run: score
 * every item against one query vector and take the top 100, at 35k, 100k and 1M items, for the
 * feed's hybrid factors (f = 32) and for photo embeddings (d = 128: similar items, photo search);
 * then the whole feed refresh (models/recommend/engine.ts: fold-in, score, top-K, re-rank, MMR,
 * explanations) on a synthetic factor-only pack. Synthetic data: values do not change the speed.
 * Every backend's top 100 is checked against the plain-JS scorer's for the same query.
 *
 *   npm run bench:gpu:build && bash .gpu/run.sh node bench-dist/ranker-gpu.js [--quick]
 *   GPU_ICD=swiftshader bash .gpu/run.sh node bench-dist/ranker-gpu.js --quick   (no GPU: proves the bundle)
 *
 * Prints a table and writes ranker-gpu.json to $OUT (or bench-results/).
 */
import { arch, cpus, platform } from 'node:os';
import { SeededRandom } from '../../models/random';
import { RecommenderEngine } from '../../models/recommend/engine';
import { jsScorer, tfScorer } from '../../models/recommend/scorer';
import type { Scorer, TopK } from '../../models/recommend/scorer';
import { syntheticCatalog, syntheticHistory } from '../../models/recommend/testing/synthetic';
import type { HistoryEvent } from '../../models/recommend/types';
import { setupBackends, tf, time, useBackend, writeResults } from './gpu-env';
import type { Timing } from './gpu-env';

const QUICK = process.argv.includes('--quick');
type Backend = 'webgpu' | 'wasm' | 'js';
const PLAN = QUICK
  ? { sizes: [2_000, 10_000], dims: [32, 128], reps: 3, feedReps: 3, k: 100 }
  : { sizes: [35_000, 100_000, 1_000_000], dims: [32, 128], reps: 30, feedReps: 20, k: 100 };

interface Row extends Timing {
  backend: Backend;
  what: 'score + top-100' | 'feed refresh';
  items: number;
  dim: number;
  /** Bytes the backend holds for the matrix (TF.js's count; the JS scorer uses the array in place). */
  matrixMB: number;
  /** Milliseconds to make the matrix ready (transpose and upload). */
  prepareMs: number;
  /** Whether the top 100 matched the plain-JS scorer's (same items; scores within 1e-3 relative). */
  matchesJs: boolean | null;
}

/** Uniform values in [-1, 1) from a seeded generator: fast enough for 128M of them. */
function randomMatrix(n: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

function sameTop(a: TopK, b: TopK): boolean {
  if (a.indices.length !== b.indices.length) return false;
  // Near-ties may swap places across backends: compare the sets, and the scores position by position.
  const set = new Set(b.indices);
  const scale = Math.max(1e-6, Math.abs(b.scores[0] ?? 0));
  for (let n = 0; n < a.indices.length; n++) {
    if (Math.abs(a.scores[n]! - b.scores[n]!) > 1e-3 * scale) return false;
    if (!set.has(a.indices[n]!) && Math.abs(a.scores[n]! - b.scores.at(-1)!) > 1e-3 * scale) return false;
  }
  return true;
}

async function scorerFor(backend: Backend): Promise<Scorer> {
  if (backend === 'js') return jsScorer();
  await useBackend(backend);
  return tfScorer(tf);
}

async function main(): Promise<void> {
  const started = performance.now();
  const { adapter, webgpuError } = await setupBackends();
  const backends: Backend[] = webgpuError ? ['wasm', 'js'] : ['webgpu', 'wasm', 'js'];
  console.log(`ranker on ${backends.join(', ')}; ${adapter ? `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}` : `no WebGPU: ${webgpuError}`}; ${QUICK ? 'quick sizes' : 'full sizes'}`);
  const rows: Row[] = [];
  let ok = true;
  for (const n of PLAN.sizes) {
    for (const dim of PLAN.dims) {
      const values = randomMatrix(n * dim, n + dim);
      const rng = new SeededRandom(dim);
      const queries = Array.from({ length: 8 }, () => Float32Array.from({ length: dim }, () => rng.next() * 2 - 1));
      const reference = await Promise.all(queries.slice(0, 2).map((x) => jsScorer().prepare(values, n, dim).topK(x, PLAN.k)));
      for (const backend of backends) {
        const scorer = await scorerFor(backend);
        const before = backend === 'js' ? 0 : tf.memory().numBytes;
        const t = performance.now();
        const m = scorer.prepare(values, n, dim);
        if (backend !== 'js') await m.topK(queries[0]!, 1); // the upload finishes with the first use
        const prepareMs = performance.now() - t;
        const matrixMB = backend === 'js' ? (n * dim * 4) / 1e6 : (tf.memory().numBytes - before) / 1e6;
        let matchesJs = true;
        for (let q = 0; q < reference.length; q++) matchesJs &&= sameTop(await m.topK(queries[q]!, PLAN.k), reference[q]!);
        if (!matchesJs) ok = false;
        let q = 0;
        const timing = await time(() => m.topK(queries[q++ % queries.length]!, PLAN.k), backend === 'js' && n >= 1_000_000 ? Math.ceil(PLAN.reps / 3) : PLAN.reps, 2);
        m.dispose();
        rows.push({ backend, what: 'score + top-100', items: n, dim, matrixMB, prepareMs, matchesJs, ...timing });
        console.log(`  ${n} × ${dim} ${backend}: median ${timing.medianMs.toFixed(2)} ms, p95 ${timing.p95Ms.toFixed(2)} ms${matchesJs ? '' : ' — DIFFERS from the JS scorer'}`);
      }
    }

    // The whole feed refresh on a factor-only synthetic pack (no photo or content matrices).
    const data = syntheticCatalog(n, { seed: 3, imageDim: 0, contentDim: 0 });
    const ids = data.pack.meta.itemIds;
    let referenceFeed: string[] | null = null;
    for (const backend of backends) {
      const scorer = await scorerFor(backend);
      const t = performance.now();
      const engine = new RecommenderEngine({ pack: data.pack, catalog: data.items, scorer });
      const prepareMs = performance.now() - t;
      const rng = new SeededRandom(11);
      const history: HistoryEvent[] = syntheticHistory(rng, ids, 50, Date.UTC(2026, 0, 1));
      let now = Date.UTC(2026, 0, 1);
      const first = await engine.feed({ history, now, k: 20, diversity: 0.3 });
      const top = first.items.map((i) => i.itemId);
      referenceFeed ??= top;
      const matchesJs = top.join() === referenceFeed.join();
      if (!matchesJs) ok = false;
      const timing = await time(
        () => {
          now += 60_000;
          history.push({ itemId: ids[rng.int(ids.length)]!, type: 'view', at: now });
          history.shift();
          return engine.feed({ history: [...history], now, k: 20, diversity: 0.3 });
        },
        PLAN.feedReps,
        2,
      );
      engine.dispose();
      rows.push({ backend, what: 'feed refresh', items: n, dim: data.pack.meta.itemFactors.cols, matrixMB: 0, prepareMs, matchesJs, ...timing });
      console.log(`  feed ${n} ${backend}: median ${timing.medianMs.toFixed(2)} ms, p95 ${timing.p95Ms.toFixed(2)} ms`);
    }
  }
  console.table(
    rows.map((r) => ({
      what: r.what,
      items: r.items,
      dim: r.dim,
      backend: r.backend,
      'median ms': Number(r.medianMs.toFixed(2)),
      'p95 ms': Number(r.p95Ms.toFixed(2)),
      'prepare ms': Math.round(r.prepareMs),
      'matrix MB': Number(r.matrixMB.toFixed(1)),
      'same as JS': r.matchesJs,
    })),
  );
  const path = writeResults('ranker-gpu.json', {
    date: new Date().toISOString(),
    machine: { platform: platform(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model },
    adapter: adapter ?? null,
    webgpuError: webgpuError ?? null,
    quick: QUICK,
    baseline: 'wasm (single-threaded SIMD, as in the app) and the plain-JS scorer, same run',
    k: PLAN.k,
    rows,
    seconds: (performance.now() - started) / 1000,
  });
  console.log(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(0)} s${ok ? '' : ' — some backend differed from the JS scorer'}`);
  process.exit(ok && !webgpuError ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
