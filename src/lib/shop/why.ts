import type { Explanation } from '../../../models/recommend/types';
import { catalog } from './catalog.svelte';
import { describeExplanation } from './explain';
import { history } from './history.svelte';

/** "Why this" for the current catalog and history. */
export function whyText(explanation: Explanation): string {
  return describeExplanation(
    explanation,
    (id) => catalog.get(id)?.title,
    (id) => history.events.filter((e) => e.itemId === id).map((e) => e.type),
  );
}
