import type * as tfc from '@tensorflow/tfjs-core';
import { BackendUnavailableError, BACKENDS, backendOrder, nextBackend } from './backends';
import type { BackendName, BackendRequest } from './backends';
import type { BackendFallback, BackendProbe, CapabilityReport } from './capabilities';
import { describeError } from './probes';

type Tf = typeof tfc;

/**
 * How to bring up one backend in this runtime (browser worker or Node): `probe` says whether the
 * device can run it, `load` imports and registers it (lazily, so unused backends cost nothing).
 */
export interface BackendLoader {
  probe(): Promise<BackendProbe> | BackendProbe;
  load(tf: Tf): Promise<void>;
}
export type BackendLoaders = Record<BackendName, BackendLoader>;

/** The subset of a WebGPU backend this runtime touches (kept structural to avoid importing it). */
interface WebGpuBackendLike {
  device: GPUDevice;
}
interface WebGlBackendLike {
  gpgpu: { gl: { canvas: EventTarget } };
}

/**
 * Owns TF.js's backend for one worker (or Node process): picks it, warms it up, serialises work on
 * it, watches for a lost GPU device, and moves to the next backend when the current one fails —
 * recording every such move in the capability report instead of falling back silently.
 */
export class TfRuntime {
  private probes = new Map<BackendName, BackendProbe>();
  private readonly skipped = new Map<BackendName, string>();
  private readonly failed = new Set<BackendName>();
  private readonly fallbacks: BackendFallback[] = [];
  private active: BackendName | undefined;
  private request: BackendRequest = 'auto';
  private readyMs = 0;
  private lostReason: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tf: Tf,
    private readonly loaders: BackendLoaders,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Initialises the requested backend (or the best one, for `auto`) and warms it up.
   * An explicit request the device cannot honour throws {@link BackendUnavailableError}.
   */
  async start(request: BackendRequest): Promise<CapabilityReport> {
    return this.serial(async () => {
      const started = this.now();
      this.request = request;
      await this.probeAll();
      const order = backendOrder(request);
      for (const name of order) {
        const reason = await this.tryActivate(name);
        if (reason === undefined) break;
        this.skipped.set(name, reason);
      }
      if (this.active === undefined || !order.includes(this.active)) {
        const name = order[0] as BackendName;
        throw new BackendUnavailableError(name, this.skipped.get(name) ?? 'unknown reason', this.availableBackends());
      }
      this.readyMs = this.now() - started;
      return this.report();
    });
  }

  /** A snapshot of what runs and why; plain data, safe to send across a worker boundary. */
  report(): CapabilityReport {
    const active = this.requireActive();
    const activeProbe = this.probes.get(active);
    return {
      requested: this.request,
      active,
      ...(activeProbe?.device === undefined ? {} : { device: activeProbe.device }),
      features: activeProbe?.features ?? [],
      backends: BACKENDS.map((name) => {
        const probe = this.probes.get(name) ?? { backend: name, supported: false, reason: 'not probed' };
        if (name === active) return { ...probe, reason: undefined };
        return { ...probe, reason: this.skipped.get(name) ?? probe.reason ?? this.notTriedReason() };
      }),
      fallbacks: [...this.fallbacks],
      tfjsVersion: this.tf.version_core,
      readyMs: this.readyMs,
    };
  }

  get backend(): BackendName {
    return this.requireActive();
  }

  /**
   * Runs `work` alone on the active backend. If the GPU device was lost or the GPU backend fails,
   * re-initialises on the next backend, records why, and runs `work` once more there.
   */
  run<T>(work: (tf: Tf) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      if (this.lostReason !== undefined) await this.fallBack(this.lostReason);
      try {
        return await work(this.tf);
      } catch (error) {
        const current = this.requireActive();
        const gpu = current === 'webgpu' || current === 'webgl';
        if (!gpu && this.lostReason === undefined) throw error;
        await this.fallBack(this.lostReason ?? `${current} failed: ${describeError(error)}`);
        return work(this.tf);
      }
    });
  }

  /**
   * Runs `work` on a specific backend (for diagnostics), then returns to the active one.
   * Throws {@link BackendUnavailableError} if that backend cannot run here.
   */
  runOn<T>(name: BackendName, work: (tf: Tf) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const previous = this.requireActive();
      if (name !== previous) {
        const reason = await this.initialise(name);
        if (reason !== undefined) throw new BackendUnavailableError(name, reason, this.availableBackends());
      }
      try {
        return await work(this.tf);
      } finally {
        if (name !== previous) await this.tf.setBackend(previous);
      }
    });
  }

  /** Backends that probed as supported and have not failed since. */
  availableBackends(): BackendName[] {
    return BACKENDS.filter((name) => this.probes.get(name)?.supported === true && !this.failed.has(name));
  }

  /**
   * Destroys the WebGPU device as a driver reset or a GPU crash would. For the diagnostics page
   * and the tests of the fallback path; returns false when the active backend is not webgpu.
   */
  simulateDeviceLoss(): Promise<boolean> {
    return this.serial(async () => {
      if (this.active !== 'webgpu') return false;
      (this.tf.backend() as unknown as WebGpuBackendLike).device.destroy();
      // device.lost resolves on a later task; wait for it so the next call sees the loss.
      for (let i = 0; i < 100 && this.lostReason === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      return true;
    });
  }

  private async probeAll(): Promise<void> {
    const entries = await Promise.all(
      BACKENDS.map(async (name): Promise<[BackendName, BackendProbe]> => {
        try {
          return [name, await this.loaders[name].probe()];
        } catch (error) {
          return [name, { backend: name, supported: false, reason: `probe failed: ${describeError(error)}` }];
        }
      }),
    );
    this.probes = new Map(entries);
  }

  /** Makes `name` the active backend; returns why not, or undefined on success. */
  private async tryActivate(name: BackendName): Promise<string | undefined> {
    const reason = await this.initialise(name);
    if (reason !== undefined) return reason;
    this.active = name;
    this.lostReason = undefined;
    this.watchForLoss(name);
    return undefined;
  }

  /** Loads, selects and warms up a backend; returns why it failed, or undefined. */
  private async initialise(name: BackendName): Promise<string | undefined> {
    const probe = this.probes.get(name);
    if (probe && !probe.supported) return probe.reason ?? 'not supported on this device';
    if (this.failed.has(name)) return this.skipped.get(name) ?? 'failed earlier in this session';
    try {
      await this.loaders[name].load(this.tf);
      if (!(await this.tf.setBackend(name))) return `TF.js could not initialise the ${name} backend`;
      await this.tf.ready();
      await this.warmUp();
      return undefined;
    } catch (error) {
      return `initialisation failed: ${describeError(error)}`;
    }
  }

  /** Compiles the first kernels so the first real call does not pay for it. */
  private async warmUp(): Promise<void> {
    const tf = this.tf;
    const result = tf.tidy(() => tf.sum(tf.matMul(tf.ones([8, 8]), tf.ones([8, 8]))));
    await result.data();
    result.dispose();
  }

  private watchForLoss(name: BackendName): void {
    if (name === 'webgpu') {
      const device = (this.tf.backend() as unknown as WebGpuBackendLike).device;
      void device.lost.then((info) => {
        if (this.active === 'webgpu') this.lostReason = `WebGPU device lost (${info.reason}): ${info.message}`;
      });
    } else if (name === 'webgl') {
      const canvas = (this.tf.backend() as unknown as WebGlBackendLike).gpgpu.gl.canvas;
      canvas.addEventListener('webglcontextlost', () => {
        if (this.active === 'webgl') this.lostReason = 'WebGL context lost';
      });
    }
  }

  private async fallBack(reason: string): Promise<void> {
    const from = this.requireActive();
    this.failed.add(from);
    this.skipped.set(from, reason);
    this.lostReason = undefined;
    for (let to = nextBackend(from, this.failed); to !== undefined; to = nextBackend(to, this.failed)) {
      const why = await this.tryActivate(to);
      if (why === undefined) {
        this.fallbacks.push({ from, to, reason, at: new Date().toISOString() });
        return;
      }
      this.failed.add(to);
      this.skipped.set(to, why);
    }
    throw new Error(`${reason}; no other backend could be initialised`);
  }

  private notTriedReason(): string {
    if (this.request !== 'auto') return `not requested (the ${this.request} backend was asked for)`;
    return `not tried: ${this.requireActive()} ranks higher and is running`;
  }

  private requireActive(): BackendName {
    if (this.active === undefined) throw new Error('The TF.js runtime has not started: call start() first');
    return this.active;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
