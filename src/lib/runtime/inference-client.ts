import * as Comlink from 'comlink';
import type { BackendRequest } from '../../../models/runtime/backends';
import type { CapabilityReport } from '../../../models/runtime/capabilities';
// Type-only: the main thread's view of the worker comes from the worker module itself.
import type { InferenceApi } from '../../../workers/inference.worker';

export interface InferenceClientOptions {
  /** Backend to start the worker on (`auto` picks the best available). */
  backend: BackendRequest;
  /** Terminate the worker after this many idle milliseconds (0 keeps it alive). */
  idleTimeoutMs?: number;
  /** Creates the worker; tests and benchmarks may substitute their own entry. */
  createWorker?: () => Worker;
}

function defaultWorker(): Worker {
  return new Worker(new URL('../../../workers/inference.worker.ts', import.meta.url), {
    type: 'module',
    name: 'inference',
  });
}

/**
 * The main thread's bridge to the inference worker: starts it lazily, runs calls one at a time,
 * aborts a call by terminating the worker (the next call starts a fresh one), and shuts an idle
 * worker down. Only plain data crosses it.
 */
export class InferenceClient {
  private worker: Worker | undefined;
  private remote: Comlink.Remote<InferenceApi> | undefined;
  private starting: Promise<CapabilityReport> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReport: CapabilityReport | undefined;

  constructor(private readonly options: InferenceClientOptions) {}

  /** The report from the most recent start, if the worker has started. */
  get report(): CapabilityReport | undefined {
    return this.lastReport;
  }

  /** Starts the worker (if needed) and returns its capability report. */
  start(signal?: AbortSignal): Promise<CapabilityReport> {
    return this.call(async (api) => {
      const report = await api.report();
      this.lastReport = report;
      return report;
    }, signal);
  }

  /**
   * Runs `task` against the worker's API once every earlier call has finished. If `signal` aborts
   * first, the worker is terminated and the promise rejects with an `AbortError`.
   */
  call<T>(task: (api: Comlink.Remote<InferenceApi>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const run = async (): Promise<T> => {
      signal?.throwIfAborted();
      this.clearIdleTimer();
      try {
        const api = await this.ensureStarted();
        return await this.abortable(task(api), signal);
      } finally {
        this.armIdleTimer();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stops the worker now; the next call starts a new one. */
  terminate(): void {
    this.clearIdleTimer();
    if (this.remote) this.remote[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = undefined;
    this.remote = undefined;
    this.starting = undefined;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  private async ensureStarted(): Promise<Comlink.Remote<InferenceApi>> {
    if (!this.worker || !this.remote) {
      this.worker = (this.options.createWorker ?? defaultWorker)();
      this.remote = Comlink.wrap<InferenceApi>(this.worker);
      this.starting = undefined;
    }
    const remote = this.remote;
    this.starting ??= remote.start(this.options.backend);
    try {
      this.lastReport = await this.starting;
    } catch (error) {
      // A worker that failed to start is useless: drop it so a later call can try again.
      this.terminate();
      throw error;
    }
    return remote;
  }

  private abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return work;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.terminate();
        reject(signal.reason instanceof Error ? signal.reason : new DOMException('Aborted', 'AbortError'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private armIdleTimer(): void {
    const idle = this.options.idleTimeoutMs ?? 0;
    if (idle > 0 && this.worker) this.idleTimer = setTimeout(() => this.terminate(), idle);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
