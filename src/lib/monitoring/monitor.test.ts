import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openFashionStore } from '../storage/store';
import type { FashionStore } from '../storage/store';
import { Monitor, SAMPLE_NAMES } from './monitor';

let store: FashionStore;
let clock = 1_000;

beforeEach(async () => {
  vi.stubGlobal('indexedDB', new IDBFactory());
  store = await openFashionStore();
  clock = 1_000;
});

afterEach(() => {
  store.close();
  vi.unstubAllGlobals();
});

function monitor(options: ConstructorParameters<typeof Monitor>[1] = {}): Monitor {
  return new Monitor(async () => store, { flushMs: 0, now: () => clock++, ...options });
}

describe('Monitor', () => {
  it('keeps latency per operation and backend, errors and shown items in the metrics store', async () => {
    const m = monitor();
    for (const ms of [4, 1, 3, 2, 10]) m.recordLatency('feed', 'wasm', ms);
    m.recordLatency('feed', 'webgpu', 0.5);
    m.recordLatency('search', 'wasm', 7);
    m.recordError('similar', new TypeError('unknown item "x"'));
    m.recordError('similar', 'second failure');
    m.recordShown(['a', 'b', 'c']);
    m.recordShown(['b', 'd']);
    expect(await store.count('metrics'), 'nothing is written before a flush').toBe(0);
    await m.flush();
    expect(await store.count('metrics')).toBe(11);

    const summary = await m.summary({ catalogSize: 8 });
    expect(summary.latency.map((l) => `${l.op}/${l.backend}:${l.count}`)).toEqual(['feed/wasm:5', 'feed/webgpu:1', 'search/wasm:1']);
    const feedWasm = summary.latency[0]!;
    expect(feedWasm).toMatchObject({ p50: 3, mean: 4, min: 1, max: 10 });
    expect(feedWasm.histogram.count).toBe(5);
    expect(summary.errors).toEqual([{ op: 'similar', count: 2, lastMessage: 'second failure', lastAt: expect.any(Number) }]);
    expect(summary.coverage).toEqual({ lists: 2, impressions: 5, distinctItems: 4, catalogSize: 8, share: 0.5 });
    expect(summary.from).toBe(1_000);
    expect(summary.droppedWrites).toBe(0);
  });

  it('names the allowed operations and rejects bad arguments', () => {
    const m = monitor();
    expect(() => m.recordLatency('checkout' as never, 'wasm', 1)).toThrow(/"checkout" is not one of feed, similar, search, photo-search/);
    expect(() => m.recordLatency('feed', '', 1)).toThrow(/backend must be a name/);
    expect(() => m.recordLatency('feed', 'wasm', -2)).toThrow(/ms must be a finite number ≥ 0, got -2/);
    expect(() => m.recordShown(['ok', ''])).toThrow(/non-empty item id strings/);
  });

  it('writes on its own when the buffer fills', async () => {
    const m = monitor({ maxBuffered: 3 });
    m.recordLatency('feed', 'wasm', 1);
    m.recordLatency('feed', 'wasm', 2);
    expect(await store.count('metrics')).toBe(0);
    m.recordLatency('feed', 'wasm', 3);
    await m.flush();
    expect(await store.count('metrics')).toBe(3);
  });

  it('trims to the newest maxSamples monitoring samples and leaves other metrics alone', async () => {
    await store.put('metrics', { name: 'experiments.exposure', value: 1, at: 0 });
    const m = monitor({ maxSamples: 10 });
    for (let i = 0; i < 30; i++) m.recordLatency('feed', 'wasm', i);
    await m.flush();
    const kept = await store.getAll('metrics');
    const own = kept.filter((s) => s.name === SAMPLE_NAMES.latency);
    expect(own.map((s) => s.value)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(kept.some((s) => s.name === 'experiments.exposure')).toBe(true);
  });

  it('counts a failed write instead of throwing, and keeps recording', async () => {
    let fail = true;
    const m = new Monitor(
      async () => {
        if (fail) throw new Error('storage is unavailable');
        return store;
      },
      { flushMs: 0 },
    );
    m.recordLatency('feed', 'wasm', 1);
    await expect(m.flush()).resolves.toBeUndefined();
    fail = false;
    m.recordLatency('feed', 'wasm', 2);
    const summary = await m.summary();
    expect(summary.droppedWrites).toBe(1);
    expect(summary.lastWriteError).toMatch(/storage is unavailable/);
    expect(summary.latency[0]!.count).toBe(1);
  });

  it('clear() deletes monitoring samples only', async () => {
    await store.put('metrics', { name: 'other', value: 1, at: 0 });
    const m = monitor();
    m.recordShown(['a']);
    await m.flush();
    m.recordLatency('feed', 'wasm', 1);
    await m.clear();
    expect((await store.getAll('metrics')).map((s) => s.name)).toEqual(['other']);
    expect((await m.summary()).coverage.lists).toBe(0);
  });

  it('flushes buffered samples on a timer', async () => {
    vi.useFakeTimers();
    try {
      const m = new Monitor(async () => store, { flushMs: 50 });
      m.recordLatency('photo-search', 'webgl', 80);
      await vi.advanceTimersByTimeAsync(60);
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(async () => expect(await store.count('metrics')).toBe(1));
  });
});
