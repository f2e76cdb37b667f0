/**
 * Whether the app can reach its server. `navigator.onLine` alone is not enough (it says nothing
 * about a captive portal or a server that is down), so a reachability check of `/healthz` — which
 * the service worker never answers from cache — decides, re-run on network events and
 * periodically while offline.
 */
const RECHECK_OFFLINE_MS = 15_000;
const CHECK_TIMEOUT_MS = 5_000;

class Connectivity {
  online = $state(navigator.onLine);
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Starts watching; safe to call more than once. */
  watch(): void {
    addEventListener('online', () => void this.check());
    addEventListener('offline', () => this.set(false));
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.check();
    });
    void this.check();
  }

  /** Checks reachability now; resolves to the new state. */
  async check(): Promise<boolean> {
    if (!navigator.onLine) return this.set(false);
    try {
      const response = await fetch('/healthz', { cache: 'no-store', signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      return this.set(response.ok);
    } catch {
      return this.set(false);
    }
  }

  private set(online: boolean): boolean {
    this.online = online;
    clearTimeout(this.timer);
    if (!online) this.timer = setTimeout(() => void this.check(), RECHECK_OFFLINE_MS);
    return online;
  }
}

export const connectivity = new Connectivity();
