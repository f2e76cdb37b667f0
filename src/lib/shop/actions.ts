/**
 * What the shopper does, as plain async functions: store the event on the device, update the
 * lists, refresh the feed. Nothing here talks to a server.
 */
import { feed } from './feed.svelte';
import { history } from './history.svelte';
import { cart, saved } from './lists.svelte';
import { outcome } from './tracking.svelte';

/** Opening a product page counts as a view (once per visit to the page). */
export async function viewItem(itemId: string): Promise<void> {
  await history.record(itemId, 'view');
  void feed.refresh();
}

/** Like (and save) an item, or take the like back. */
export async function toggleLike(itemId: string): Promise<boolean> {
  const liked = saved.has(itemId);
  if (liked) {
    await saved.remove(itemId);
    await history.forget(itemId, 'like');
  } else {
    await saved.add(itemId);
    await history.record(itemId, 'like');
    outcome('like');
  }
  void feed.refresh();
  return !liked;
}

export async function addToCart(itemId: string): Promise<void> {
  await cart.add(itemId);
  await history.record(itemId, 'add_to_cart');
  outcome('add_to_cart');
  void feed.refresh();
}

/** One fewer of a cart line (never below one: Remove takes the line out). No event: a change of mind is not a signal. */
export async function fewerInCart(itemId: string): Promise<void> {
  const quantity = cart.quantity(itemId);
  if (quantity > 1) await cart.setQuantity(itemId, quantity - 1);
}

export async function removeFromCart(itemId: string): Promise<void> {
  await cart.remove(itemId);
  void feed.refresh();
}

/** A purchase (the demo shop has no payment step): recorded and taken out of the cart. */
export async function buy(itemIds: readonly string[]): Promise<void> {
  for (const itemId of itemIds) {
    await history.record(itemId, 'purchase');
    outcome('purchase');
    if (cart.has(itemId)) await cart.remove(itemId);
  }
  void feed.refresh();
}
