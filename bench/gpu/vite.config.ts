/**
 * Bundles every `bench/gpu/*.bench.ts` into `bench-dist/<name>.js` (one output file per entry,
 * shared code in `bench-dist/chunk-*.js`) for a run on a machine that has no node_modules: TF.js
 * and our code are inside the bundle; only `webgpu` (Dawn, carried in `.gpu/`) stays external.
 * TF.js's wasm binaries are copied beside the bundle; entries point the wasm backend at them.
 *
 *   npm run bench:gpu:build
 *   bash .gpu/run.sh node bench-dist/encoder-gpu.js
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** Every benchmark in this folder is an entry: `x.bench.ts` becomes `bench-dist/x.js`. */
export function benchEntries(dir = here): Record<string, string> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
  if (files.length === 0) throw new Error(`No *.bench.ts entries in ${dir}`);
  return Object.fromEntries(files.map((f) => [f.slice(0, -'.bench.ts'.length), join(dir, f)]));
}

export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

function copyWasmBinaries(): Plugin {
  return {
    name: 'fashionml-copy-tfjs-wasm',
    generateBundle() {
      const dist = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
      for (const fileName of WASM_FILES) this.emitFile({ type: 'asset', fileName, source: readFileSync(join(dist, fileName)) });
    },
  };
}

export default defineConfig({
  root,
  logLevel: 'warn',
  publicDir: false,
  plugins: [copyWasmBinaries()],
  ssr: { noExternal: true, external: ['webgpu'], target: 'node' },
  build: {
    ssr: true,
    outDir: resolve(root, 'bench-dist'),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: benchEntries(),
      external: ['webgpu'],
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: 'chunk-[name]-[hash].js',
        // TF.js's wasm loader (Emscripten) reads __dirname when it sees Node; the bundler already
        // turns its require() calls into createRequire.
        banner: [
          "import { fileURLToPath as __fmlFileURLToPath } from 'node:url';",
          'const __filename = __fmlFileURLToPath(import.meta.url);',
          "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
        ].join(' '),
      },
    },
  },
});
