import { registerSW } from 'virtual:pwa-register';

/**
 * The service worker's life cycle as the UI sees it. A new version is never swapped in under the
 * user: it waits until they choose to reload.
 */
class PwaManager {
  /** A new version is installed and waiting. */
  updateReady = $state(false);
  /** The app shell is cached: the app opens without a network. */
  offlineReady = $state(false);
  /** Why registration failed, if it did. */
  error = $state<string | undefined>(undefined);

  private updateServiceWorker: ((reload?: boolean) => Promise<void>) | undefined;

  register(): void {
    if (!('serviceWorker' in navigator)) {
      this.error = 'This browser has no service workers: the app will not work offline.';
      return;
    }
    this.updateServiceWorker = registerSW({
      immediate: true,
      onNeedRefresh: () => (this.updateReady = true),
      onOfflineReady: () => (this.offlineReady = true),
      onRegisterError: (error: unknown) => {
        this.error = `Offline support is unavailable: ${error instanceof Error ? error.message : String(error)}`;
      },
    });
  }

  /** Activates the waiting version and reloads into it. */
  async applyUpdate(): Promise<void> {
    await this.updateServiceWorker?.(true);
  }

  dismissUpdate(): void {
    this.updateReady = false;
  }
}

export const pwa = new PwaManager();
