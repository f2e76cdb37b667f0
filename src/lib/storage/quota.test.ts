import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  estimateStorage,
  formatBytes,
  isQuotaExceededError,
  requestPersistence,
  StorageQuotaError,
  storageQuotaError,
} from './quota';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('requestPersistence', () => {
  it('without navigator reports unsupported and not persisted', async () => {
    vi.stubGlobal('navigator', undefined);
    expect(await requestPersistence()).toEqual({ persisted: false, supported: false });
  });

  it('without navigator.storage reports unsupported', async () => {
    vi.stubGlobal('navigator', {});
    expect(await requestPersistence()).toEqual({ persisted: false, supported: false });
  });

  it.each([true, false])('returns what persist() granted (%s)', async (granted) => {
    const persist = vi.fn(() => Promise.resolve(granted));
    vi.stubGlobal('navigator', { storage: { persist, persisted: () => Promise.resolve(!granted) } });
    expect(await requestPersistence()).toEqual({ persisted: granted, supported: true });
    expect(persist).toHaveBeenCalledOnce();
  });

  it('where only persisted() exists (workers) reports the current state as unsupported', async () => {
    vi.stubGlobal('navigator', { storage: { persisted: () => Promise.resolve(true) } });
    expect(await requestPersistence()).toEqual({ persisted: true, supported: false });
  });

  it('a failing persist() reports not persisted instead of throwing', async () => {
    vi.stubGlobal('navigator', {
      storage: { persist: () => Promise.reject(new DOMException('denied', 'SecurityError')) },
    });
    expect(await requestPersistence()).toEqual({ persisted: false, supported: true });
  });
});

describe('estimateStorage', () => {
  it('without navigator or estimate() returns undefined', async () => {
    vi.stubGlobal('navigator', undefined);
    expect(await estimateStorage()).toBeUndefined();
    vi.stubGlobal('navigator', { storage: {} });
    expect(await estimateStorage()).toBeUndefined();
  });

  it('returns usage, quota and percent used', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ usage: 12_500_000, quota: 50_000_000 }) } });
    expect(await estimateStorage()).toEqual({ usage: 12_500_000, quota: 50_000_000, percentUsed: 25 });
  });

  it('treats missing usage as 0', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ quota: 1000 }) } });
    expect(await estimateStorage()).toEqual({ usage: 0, quota: 1000, percentUsed: 0 });
  });

  it.each([
    ['no quota', { usage: 10 }],
    ['zero quota', { usage: 0, quota: 0 }],
  ])('returns undefined for %s', async (_label, estimate) => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve(estimate) } });
    expect(await estimateStorage()).toBeUndefined();
  });

  it('returns undefined when estimate() rejects', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.reject(new TypeError('nope')) } });
    expect(await estimateStorage()).toBeUndefined();
  });
});

describe('isQuotaExceededError', () => {
  it('matches QuotaExceededError by name, from any realm', () => {
    expect(isQuotaExceededError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaExceededError({ name: 'QuotaExceededError', message: 'other realm' })).toBe(true);
    expect(isQuotaExceededError(new DOMException('full', 'NS_ERROR_DOM_QUOTA_REACHED'))).toBe(true);
  });

  it('does not match other errors', () => {
    expect(isQuotaExceededError(new DOMException('bad key', 'DataError'))).toBe(false);
    expect(isQuotaExceededError(new Error('QuotaExceededError'))).toBe(false);
    expect(isQuotaExceededError('QuotaExceededError')).toBe(false);
    expect(isQuotaExceededError(null)).toBe(false);
    expect(isQuotaExceededError(undefined)).toBe(false);
  });
});

describe('StorageQuotaError', () => {
  it('says what failed, where, and how full storage is', () => {
    const cause = new DOMException('quota', 'QuotaExceededError');
    const error = new StorageQuotaError(
      { storeName: 'items', recordCount: 12, usage: 48_000_000, quota: 50_000_000 },
      { cause },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('StorageQuotaError');
    expect(error.message).toBe(
      'Storage is full: could not save 12 items to "items" (using 48.0 MB of 50.0 MB). ' +
        'Free space or clear the catalog cache in Settings.',
    );
    expect(error.cause).toBe(cause);
    expect(error).toMatchObject({ storeName: 'items', recordCount: 12, usage: 48_000_000, quota: 50_000_000 });
  });

  it('uses singular nouns, payload size, and omits usage when unknown', () => {
    expect(new StorageQuotaError({ storeName: 'blobs', recordCount: 1, bytes: 2_345_678 }).message).toBe(
      'Storage is full: could not save 1 blob of 2.3 MB to "blobs". Free space or clear the catalog cache in Settings.',
    );
    expect(new StorageQuotaError({ storeName: 'interactions', recordCount: 1 }).message).toContain(
      'could not save 1 interaction to "interactions".',
    );
    expect(new StorageQuotaError({ storeName: 'unknown', recordCount: 3 }).message).toContain(
      'could not save 3 records to "unknown".',
    );
  });

  it('storageQuotaError adds the current estimate when there is one', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ usage: 1_200_000_000, quota: 1_250_000_000 }) } });
    const error = await storageQuotaError({ storeName: 'embeddings', recordCount: 2 }, new DOMException('q', 'QuotaExceededError'));
    expect(error.message).toBe(
      'Storage is full: could not save 2 embeddings to "embeddings" (using 1.2 GB of 1.3 GB). ' +
        'Free space or clear the catalog cache in Settings.',
    );

    vi.stubGlobal('navigator', undefined);
    const bare = await storageQuotaError({ storeName: 'metrics', recordCount: 2 }, undefined);
    expect(bare.message).toContain('could not save 2 metric samples to "metrics".');
    expect(bare.usage).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1500, '1.5 kB'],
    [48_000_000, '48.0 MB'],
    [3_210_000_000, '3.2 GB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
