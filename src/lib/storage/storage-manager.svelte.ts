import { estimateStorage, formatBytes, requestPersistence } from './quota';
import type { PersistenceResult, StorageEstimateResult } from './quota';
import { openFashionStore } from './store';
import type { FashionStore } from './store';

/**
 * The page's connection to on-device storage, and what the UI shows about it: space used and
 * allowed, whether the browser will keep the data under storage pressure, and any error.
 */
class StorageManager {
  usage = $state<StorageEstimateResult | undefined>(undefined);
  persistence = $state<PersistenceResult | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  /** Another tab upgraded the database: this page must reload to keep using it. */
  needsReload = $state(false);

  private opening: Promise<FashionStore> | undefined;

  /** The store, opened on first use. */
  store(): Promise<FashionStore> {
    this.opening ??= openFashionStore({
      onClose: () => {
        this.needsReload = true;
        this.opening = undefined;
      },
    }).catch((error: unknown) => {
      this.opening = undefined;
      this.error = `On-device storage is unavailable: ${error instanceof Error ? error.message : String(error)}`;
      throw error;
    });
    return this.opening;
  }

  /** Opens the store, asks for persistent storage and reads the quota; never throws. */
  async start(): Promise<void> {
    try {
      await this.store();
    } catch {
      return;
    }
    this.persistence = await requestPersistence();
    await this.refreshUsage();
  }

  async refreshUsage(): Promise<void> {
    this.usage = await estimateStorage();
  }

  /** A saved setting, or `fallback` when unset or storage is unavailable. */
  async getSetting<T>(key: string, fallback: T): Promise<T> {
    try {
      const record = await (await this.store()).get('meta', `settings.${key}`);
      return record === undefined ? fallback : (record.value as T);
    } catch {
      return fallback;
    }
  }

  /** Saves a setting; a failure (e.g. a full disk) is shown to the user, not swallowed. */
  async saveSetting(key: string, value: unknown): Promise<void> {
    try {
      await (await this.store()).put('meta', { key: `settings.${key}`, value, updatedAt: Date.now() });
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  describeUsage(): string {
    if (!this.usage) return 'Storage use is not reported by this browser.';
    return `${formatBytes(this.usage.usage)} of ${formatBytes(this.usage.quota)} used (${this.usage.percentUsed.toFixed(1)} %)`;
  }
}

export const storage = new StorageManager();
