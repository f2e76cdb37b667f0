/**
 * One data-parallel replica of the image encoder in a worker thread (see `encoder-replica.ts`):
 * its own wasm backend, its own copy of the network and optimiser; answers `compute` with the
 * gradients of its share of a batch, applies the summed gradients on `apply`, and hands its weights
 * over on `weights`. Started through `encoder-replica.worker.mjs`, which loads TypeScript.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalReplica, prepareBackend } from './encoder-replica';
import type { ReplicaReply, ReplicaRequest, WorkerInit } from './encoder-replica';

const port = parentPort;
if (!port) throw new Error('encoder-replica.worker must run in a worker thread');

const reply = (message: ReplicaReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const errorText = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

try {
  const init = workerData as WorkerInit;
  await prepareBackend('wasm');
  const replica = new LocalReplica(init.data, init.setup);
  port.on('message', (request: ReplicaRequest) => {
    void (async () => {
      try {
        if (request.type === 'compute') {
          const { loss, grads } = await replica.compute(request);
          reply({ type: 'grads', loss, grads }, grads.map((g) => g.buffer as ArrayBuffer));
        } else if (request.type === 'apply') {
          replica.apply(request.grads, request.learningRate);
        } else {
          reply({ type: 'weights', weights: await replica.weights() });
        }
      } catch (error) {
        reply({ type: 'error', message: errorText(error) });
      }
    })();
  });
  reply({ type: 'ready' });
} catch (error) {
  reply({ type: 'error', message: errorText(error) });
}
