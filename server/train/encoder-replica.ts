/**
 * Data-parallel training of the image encoder on the CPU cores of one machine.
 *
 * TF.js's wasm backend runs on one thread (threaded wasm is not used: see DESIGN.md), so a 2-core
 * machine trains twice as fast with two copies of the network, each in its own worker thread with
 * its own wasm backend: every step, each replica augments its share of the batch and computes its
 * gradients; the trainer adds them up and every replica applies the same sum with its own Adam.
 * Replicas start from the same seeded weights and apply identical updates, so they stay
 * identical (batch-norm statistics are each replica's own, averaged when training ends).
 *
 * `LocalReplica` does the same in the calling thread (one replica: no workers, used by the tests
 * and wherever one core is all there is); `WorkerReplica` runs one in `encoder-replica.worker.ts`.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { augmentInto, downscale, phonePhotoInto } from '../../models/image/augment';
import type { AugmentOptions, PhonePhotoOptions } from '../../models/image/augment';
import { computeGradients, createEncoder, disposeEncoder, encoderConfig, getWeights, toNetworkInput } from '../../models/image/encoder';
import type { Encoder, EncoderConfig, ForwardOptions, LossConfig, NamedWeight, Task, TrainBatch } from '../../models/image/encoder';
import { registerEncoderGradients } from '../../models/image/gradients';
import { registerTrainingKernels } from '../../models/image/training-kernels';
import { SeededRandom } from '../../models/random';

export type TrainBackend = 'wasm' | 'cpu';

/** Sets up TF.js for training in Node: gradients, the missing wasm kernels, the backend. */
export async function prepareBackend(backend: TrainBackend = 'wasm'): Promise<typeof tf> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerEncoderGradients(tf);
  registerTrainingKernels(tf, 'wasm');
  await tf.setBackend(backend);
  await tf.ready();
  return tf;
}

/** The photos and labels a replica draws its batches from (the photos may sit in shared memory). */
export interface ReplicaData {
  images: Uint8Array;
  size: number;
  labels: Partial<Record<Task, Int32Array>>;
}

/** Everything that makes two replicas identical: same weights, same optimiser, same batches. */
export interface ReplicaSetup {
  classes: EncoderConfig['classes'];
  config: Partial<Omit<EncoderConfig, 'classes'>>;
  seed: number;
  learningRate: number;
  augment: AugmentOptions;
  /** Share of images turned into phone photos instead of `augment`. */
  phonePhoto: number;
  phonePhotoOptions: PhonePhotoOptions;
  batchNorm: NonNullable<ForwardOptions['batchNorm']>;
  loss: LossConfig;
}

/** One step's work for one replica: its rows of the batch, the seed of their augmentation. */
export interface ShareOfStep {
  rows: Int32Array;
  seed: number;
  /** Rows in the whole batch (all replicas together): the loss's divisor. */
  batchRows: number;
  /** Side the images are trained at this step (default: the packed photos' side). */
  size?: number;
}

export interface ReplicaGradients {
  /** This share's part of the batch loss (the parts add up to the batch loss). */
  loss: number;
  /** One array per trainable weight, in `weightSpecs` order. */
  grads: Float32Array[];
}

export interface Replica {
  compute(share: ShareOfStep): Promise<ReplicaGradients>;
  /** Applies the gradient of the whole batch (the replicas' gradients added up). */
  apply(grads: Float32Array[], learningRate: number): void;
  /** Every weight, trainable and state, in storage order. */
  weights(): Promise<NamedWeight[]>;
  close(): Promise<void>;
}

/**
 * Augments `rows` into a training batch (phone photos for a `phonePhoto` share of them), downscaled
 * to `size` when that is below the packed photos' side.
 */
export function prepareBatch(data: ReplicaData, rows: Int32Array, rng: SeededRandom, setup: Pick<ReplicaSetup, 'augment' | 'phonePhoto' | 'phonePhotoOptions'>, size = data.size): TrainBatch {
  const bytes = new Uint8Array(rows.length * data.size * data.size * 3);
  const count = data.images.length / (data.size * data.size * 3);
  rows.forEach((row, i) => {
    if (!Number.isInteger(row) || row < 0 || row >= count) throw new RangeError(`Training row ${row} is outside the ${count} photos`);
    if (rng.next() < setup.phonePhoto) phonePhotoInto(data.images, row, bytes, i, data.size, rng, setup.phonePhotoOptions);
    else augmentInto(data.images, row, bytes, i, data.size, rng, setup.augment);
  });
  const pixels = size === data.size ? bytes : downscale(bytes, rows.length, data.size, size);
  return {
    input: toNetworkInput(pixels, rows.length, size),
    count: rows.length,
    size,
    labels: Object.fromEntries(Object.entries(data.labels).map(([task, labels]) => [task, Int32Array.from(rows, (r) => labels[r] as number)])),
  };
}

/** A replica in the calling thread, on whatever backend is active there. */
export class LocalReplica implements Replica {
  readonly encoder: Encoder;
  private readonly optimizer: tf.AdamOptimizer;

  constructor(
    private readonly data: ReplicaData,
    private readonly setup: ReplicaSetup,
  ) {
    this.encoder = createEncoder(tf, encoderConfig(setup.classes, { inputSize: data.size, ...setup.config }), setup.seed);
    this.optimizer = tf.train.adam(setup.learningRate);
  }

  compute(share: ShareOfStep): Promise<ReplicaGradients> {
    const batch = prepareBatch(this.data, share.rows, new SeededRandom(share.seed), this.setup, share.size);
    const { value, grads } = computeGradients(tf, this.encoder, batch, this.setup.loss, { batchNorm: this.setup.batchNorm }, share.batchRows);
    const loss = value.dataSync()[0] as number;
    const arrays = [...this.encoder.params.values()].map((v) => {
      const g = grads[v.name];
      // A head whose task has no weight in the loss has no gradient: it stays as it is.
      if (!g) return new Float32Array(v.size);
      // A copy of its own: the arrays are transferred to the trainer thread.
      return new Float32Array(g.dataSync());
    });
    tf.dispose([value, ...Object.values(grads)]);
    return Promise.resolve({ loss, grads: arrays });
  }

  apply(grads: Float32Array[], learningRate: number): void {
    // Adam reads its learning rate on every step; the field is protected only in the typings.
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    const params = [...this.encoder.params.values()];
    const named = params.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i] as Float32Array, v.shape, 'float32') }));
    this.optimizer.applyGradients(named);
    tf.dispose(named.map((g) => g.tensor));
  }

  weights(): Promise<NamedWeight[]> {
    return Promise.resolve(getWeights(this.encoder));
  }

  /** Frees the optimiser; the encoder stays (the trainer may hand it on), `dispose` frees it. */
  close(): Promise<void> {
    this.optimizer.dispose();
    return Promise.resolve();
  }

  dispose(): void {
    disposeEncoder(this.encoder);
  }
}

/** What the trainer sends a worker. */
export type ReplicaRequest =
  | ({ type: 'compute' } & ShareOfStep)
  | { type: 'apply'; grads: Float32Array[]; learningRate: number }
  | { type: 'weights' };

/** What a worker answers (errors included: the worker never dies silently). */
export type ReplicaReply = { type: 'ready' } | ({ type: 'grads' } & ReplicaGradients) | { type: 'weights'; weights: NamedWeight[] } | { type: 'error'; message: string };

export interface WorkerInit {
  data: ReplicaData;
  setup: ReplicaSetup;
}

/** A replica in a worker thread with its own wasm backend. */
export class WorkerReplica implements Replica {
  private readonly worker: Worker;
  private waiting: { resolve: (reply: ReplicaReply) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(init: WorkerInit) {
    this.worker = new Worker(new URL('./encoder-replica.worker.mjs', import.meta.url), { workerData: init });
    this.worker.on('message', (reply: ReplicaReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (reply.type === 'error') this.fail(new Error(`image encoder replica: ${reply.message}`), waiting);
      else waiting?.resolve(reply);
    });
    this.worker.on('error', (error) => this.fail(error, this.waiting));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`image encoder replica exited with code ${code}`), this.waiting);
    });
  }

  /** Starts a worker and waits until its backend and network are ready. */
  static async start(init: WorkerInit): Promise<WorkerReplica> {
    const replica = new WorkerReplica(init);
    await replica.next();
    return replica;
  }

  private fail(error: Error, waiting: WorkerReplica['waiting']): void {
    this.failure ??= error;
    this.waiting = undefined;
    waiting?.reject(error);
  }

  /** The worker's next reply (one request is outstanding at a time). */
  private next(): Promise<ReplicaReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async compute(share: ShareOfStep): Promise<ReplicaGradients> {
    const reply = this.next();
    this.worker.postMessage({ type: 'compute', ...share } satisfies ReplicaRequest);
    const answer = await reply;
    if (answer.type !== 'grads') throw new Error(`image encoder replica answered ${answer.type} to compute`);
    return { loss: answer.loss, grads: answer.grads };
  }

  apply(grads: Float32Array[], learningRate: number): void {
    // No answer: the worker handles messages in order, so the next compute sees these weights.
    this.worker.postMessage({ type: 'apply', grads, learningRate } satisfies ReplicaRequest);
  }

  async weights(): Promise<NamedWeight[]> {
    const reply = this.next();
    this.worker.postMessage({ type: 'weights' } satisfies ReplicaRequest);
    const answer = await reply;
    if (answer.type !== 'weights') throw new Error(`image encoder replica answered ${answer.type} to weights`);
    return answer.weights;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('image encoder replica closed');
    await this.worker.terminate();
  }
}

/** The photos copied once into shared memory, so every worker reads the same bytes without a copy each. */
export function shareImages(data: ReplicaData): ReplicaData {
  if (data.images.buffer instanceof SharedArrayBuffer) return data;
  const shared = new Uint8Array(new SharedArrayBuffer(data.images.byteLength));
  shared.set(data.images);
  return { ...data, images: shared };
}

/** Element-wise sum of the replicas' gradients (into the first one's arrays). */
export function addGradients(parts: ReplicaGradients[]): ReplicaGradients {
  const [first, ...rest] = parts;
  if (!first) throw new Error('addGradients: no gradients');
  for (const part of rest) {
    first.loss += part.loss;
    part.grads.forEach((g, i) => {
      const into = first.grads[i] as Float32Array;
      for (let k = 0; k < g.length; k++) into[k]! += g[k] as number;
    });
  }
  return first;
}

/** The replicas' weights with their batch-norm statistics averaged (trainable weights are identical). */
export function averageState(all: NamedWeight[][]): NamedWeight[] {
  const [first] = all;
  if (!first) throw new Error('averageState: no replicas');
  return first.map((w, i) => {
    if (!/\/(mean|var)$/.test(w.name) || all.length === 1) return w;
    const data = new Float32Array(w.data.length);
    for (const weights of all) {
      const other = (weights[i] as NamedWeight).data;
      for (let k = 0; k < data.length; k++) data[k]! += (other[k] as number) / all.length;
    }
    return { ...w, data };
  });
}
