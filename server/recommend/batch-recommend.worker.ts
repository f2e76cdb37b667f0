/**
 * One batch-recommendation thread (server/recommend/batch-recommend.ts): its own engine on the
 * ranker version the main thread named, its own read connection to the feature store, and chunks
 * of users ranked one at a time, in the order they arrive (replies keep that order).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from '../registry/registry';
import { FeatureStore } from '../store/feature-store';
import { ChunkRecommender, loadRankerEngine } from './batch-recommend';
import type { RecommendChunk, WorkerInit, WorkerReply } from './batch-recommend';

const port = parentPort;
if (!port) throw new Error('batch-recommend.worker.ts runs as a worker thread');
const reply = (message: WorkerReply) => port.postMessage(message);

try {
  const init = workerData as WorkerInit;
  const store = FeatureStore.open(init.featureStore);
  const { engine, ...info } = loadRankerEngine(new Registry(init.registry), store, init.ranker);
  const recommender = new ChunkRecommender(engine, store, init.setup);
  // One chunk at a time: the engine's calls must not interleave at their awaits.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (chunk: RecommendChunk) => {
    queue = queue.then(async () => {
      try {
        reply({ type: 'result', result: await recommender.run(chunk) });
      } catch (error) {
        reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    });
  });
  reply({ type: 'ready', info });
} catch (error) {
  reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}
