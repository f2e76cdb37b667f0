import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapabilityReport } from '../../../models/runtime/capabilities';
import type { InferenceApi } from '../../../workers/inference.worker';
import { InferenceClient } from './inference-client';

/**
 * A stand-in worker: a MessageChannel whose far end exposes a scripted API through comlink, so the
 * bridge's queueing, abort, restart and idle logic is tested without TF.js. The real worker is
 * covered by the end-to-end tests in real Chromium.
 */
interface FakeWorkers {
  started: number;
  terminated: number;
  create: () => Worker;
}

function fakeWorkers(api: (id: number) => Partial<InferenceApi>): FakeWorkers {
  const state: FakeWorkers = {
    started: 0,
    terminated: 0,
    create: () => {
      const id = ++state.started;
      const { port1, port2 } = new MessageChannel();
      Comlink.expose(api(id), port2 as unknown as Comlink.Endpoint);
      const endpoint = port1 as unknown as Worker;
      endpoint.terminate = () => {
        state.terminated++;
        port1.close();
        port2.close();
      };
      return endpoint;
    },
  };
  return state;
}

const report = (id: number): CapabilityReport => ({
  requested: 'auto',
  active: 'cpu',
  features: [],
  backends: [],
  fallbacks: [],
  tfjsVersion: `worker-${id}`,
  readyMs: 1,
});

const clients: InferenceClient[] = [];
function client(workers: FakeWorkers, idleTimeoutMs = 0): InferenceClient {
  const c = new InferenceClient({ backend: 'auto', createWorker: workers.create, idleTimeoutMs });
  clients.push(c);
  return c;
}

afterEach(() => clients.splice(0).forEach((c) => c.terminate()));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InferenceClient', () => {
  it('starts the worker lazily, once, and returns its report', async () => {
    const workers = fakeWorkers((id) => ({ start: async () => report(id), report: async () => report(id) }));
    const c = client(workers);
    expect(workers.started).toBe(0);
    expect((await c.start()).tfjsVersion).toBe('worker-1');
    await c.call((api) => api.report());
    expect(workers.started).toBe(1);
  });

  it('runs calls one at a time in the order they were made', async () => {
    const order: string[] = [];
    const workers = fakeWorkers((id) => ({
      start: async () => report(id),
      tensorCount: async () => {
        order.push('slow-start');
        await sleep(30);
        order.push('slow-end');
        return 1;
      },
      availableBackends: async () => {
        order.push('fast');
        return ['cpu'];
      },
    }));
    const c = client(workers);
    await Promise.all([c.call((api) => api.tensorCount()), c.call((api) => api.availableBackends())]);
    expect(order).toEqual(['slow-start', 'slow-end', 'fast']);
  });

  it('aborting a call terminates the worker, and the next call starts a fresh one', async () => {
    const workers = fakeWorkers((id) => ({
      start: async () => report(id),
      tensorCount: () => new Promise<number>(() => undefined), // never finishes
      report: async () => report(id),
    }));
    const c = client(workers);
    const controller = new AbortController();
    const hung = c.call((api) => api.tensorCount(), controller.signal);
    await sleep(10);
    controller.abort();
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    expect(workers.terminated).toBe(1);
    expect(c.running).toBe(false);
    expect((await c.call((api) => api.report())).tfjsVersion).toBe('worker-2');
  });

  it('an already-aborted signal never reaches the worker', async () => {
    const workers = fakeWorkers((id) => ({ start: async () => report(id) }));
    const c = client(workers);
    await expect(c.call((api) => api.report(), AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(workers.started).toBe(0);
  });

  it('a worker that fails to start is dropped and the next call tries again', async () => {
    let attempts = 0;
    const workers = fakeWorkers((id) => ({
      start: async () => {
        if (++attempts === 1) throw new Error('Backend "webgpu" is not available');
        return report(id);
      },
      report: async () => report(id),
    }));
    const c = client(workers);
    await expect(c.start()).rejects.toThrow('Backend "webgpu" is not available');
    expect(workers.terminated).toBe(1);
    expect((await c.start()).tfjsVersion).toBe('worker-2');
  });

  it('shuts an idle worker down and restarts it on the next call', async () => {
    const workers = fakeWorkers((id) => ({ start: async () => report(id), report: async () => report(id) }));
    const c = client(workers, 20);
    await c.start();
    expect(c.running).toBe(true);
    await sleep(60);
    expect(c.running).toBe(false);
    expect(workers.terminated).toBe(1);
    expect((await c.start()).tfjsVersion).toBe('worker-2');
  });
});
