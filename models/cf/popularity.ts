/**
 * Popularity baseline: every user gets the items with the most training interactions.
 */
import type { Scorer } from '../eval/protocols';
import type { Csr } from './sparse';

export interface PopularityModel extends Scorer {
  /** Training interactions per item, shape [nItems], float32. */
  counts: Float32Array;
}

/** Fits on a user × item matrix (any stored entry counts once). */
export function fitPopularity(userItems: Csr): PopularityModel {
  const counts = new Float32Array(userItems.nCols);
  for (const i of userItems.indices) counts[i]!++;
  return { counts, scoreUser: (_u, out) => out.set(counts) };
}
