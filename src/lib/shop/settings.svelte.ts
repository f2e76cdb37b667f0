import { storage } from '../storage/storage-manager.svelte';

/** Default MMR trade-off: mostly relevance, enough variety that one colour does not fill the page. */
export const DEFAULT_DIVERSITY = 0.3;

/** The shopper's preferences for the feed, saved on the device. */
class ShopSettings {
  diversity = $state(DEFAULT_DIVERSITY);
  loaded = $state(false);

  async load(): Promise<void> {
    const value = await storage.getSetting<number>('diversity', DEFAULT_DIVERSITY);
    this.diversity = Number.isFinite(value) && value >= 0 && value <= 1 ? value : DEFAULT_DIVERSITY;
    this.loaded = true;
  }

  async setDiversity(value: number): Promise<void> {
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`Diversity must be from 0 to 1, got ${value}`);
    this.diversity = value;
    await storage.saveSetting('diversity', value);
  }

  reset(): void {
    this.diversity = DEFAULT_DIVERSITY;
    this.loaded = false;
  }
}

export const shopSettings = new ShopSettings();
