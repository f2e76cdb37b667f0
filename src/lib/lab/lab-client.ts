/**
 * The page's bridge to the lab worker (workers/lab.worker.ts): started on first use, calls run one
 * at a time, `terminate()` frees everything it loaded. A separate worker from the shopper's, so
 * nothing loaded here reaches the shopper screens.
 */
import * as Comlink from 'comlink';
import type { BackendRequest } from '../../../models/runtime/backends';
// Type-only: the page's view of the worker comes from the worker module itself.
import type { LabApi } from '../../../workers/lab.worker';

export class LabClient {
  private worker: Worker | undefined;
  private remote: Comlink.Remote<LabApi> | undefined;
  private starting: Promise<unknown> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly backend: () => BackendRequest) {}

  call<T>(task: (api: Comlink.Remote<LabApi>) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => task(await this.ensureStarted());
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  terminate(): void {
    if (this.remote) this.remote[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = undefined;
    this.remote = undefined;
    this.starting = undefined;
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  private async ensureStarted(): Promise<Comlink.Remote<LabApi>> {
    if (!this.worker || !this.remote) {
      this.worker = new Worker(new URL('../../../workers/lab.worker.ts', import.meta.url), { type: 'module', name: 'lab' });
      this.remote = Comlink.wrap<LabApi>(this.worker);
    }
    const remote = this.remote;
    this.starting ??= remote.start(this.backend());
    try {
      await this.starting;
    } catch (error) {
      this.terminate();
      throw error;
    }
    return remote;
  }
}
