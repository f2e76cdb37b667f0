import type { InteractionType } from '../../../models/catalog/item';
import type { Explanation } from '../../../models/recommend/types';

const VERB: Record<InteractionType, string> = {
  purchase: 'bought',
  add_to_cart: 'added to your cart',
  like: 'liked',
  click: 'looked at',
  view: 'looked at',
};
/** Strongest signal first, so "because you bought" wins over "because you looked at". */
const STRENGTH: InteractionType[] = ['purchase', 'add_to_cart', 'like', 'click', 'view'];

/**
 * One sentence for "why this", from the engine's explanation, the catalog (titles) and the
 * history (what the shopper did with the items it names).
 */
export function describeExplanation(
  explanation: Explanation,
  title: (itemId: string) => string | undefined,
  typesOf: (itemId: string) => InteractionType[],
): string {
  switch (explanation.kind) {
    case 'popular':
      return 'Popular with shoppers right now.';
    case 'trending':
      return 'Trending this week.';
    case 'query':
      return 'Matches your search.';
    case 'similar': {
      const first = explanation.because[0];
      const name = first ? title(first.itemId) : undefined;
      return name ? `Looks like ${name}.` : 'Similar to this item.';
    }
    case 'history': {
      const named = explanation.because
        .map((b) => ({ ...b, title: title(b.itemId) }))
        .filter((b): b is typeof b & { title: string } => b.title !== undefined)
        .slice(0, 2);
      if (named.length === 0) return 'Picked from what you did in the shop.';
      const types = typesOf(named[0]!.itemId);
      const verb = VERB[STRENGTH.find((t) => types.includes(t)) ?? 'view'];
      const names = named.map((b) => `“${b.title}”`).join(' and ');
      return `Because you ${verb} ${names}.`;
    }
  }
}
