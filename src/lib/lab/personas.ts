/**
 * Simulated personas for the Model Lab: a few shopper histories generated from the catalog's own
 * attributes (gender × article type × colour), so two model versions can be compared on the same
 * profile without anyone's real history. Deterministic for a given catalog and seed.
 */
import type { CatalogItem } from '../../../models/catalog/item';
import type { HistoryEvent } from '../../../models/recommend/types';

export interface Persona {
  id: string;
  /** e.g. "Women · Tops · Blue (simulated)". */
  label: string;
  /** What the persona prefers. */
  prefers: { gender: string; articleType: string; colour: string };
  /** Oldest first; times end at `now`. */
  history: HistoryEvent[];
}

export interface PersonaOptions {
  /** Personas to make (default 4). */
  count?: number;
  /** Events per persona (default 12). */
  events?: number;
  seed?: number;
  /** The newest event's time (epoch ms). */
  now: number;
}

/** mulberry32: a small seeded generator, enough for picking items. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type PersonaItem = Pick<CatalogItem, 'id' | 'gender' | 'articleType' | 'colour'>;

/**
 * Personas over the most common (gender, article type, colour) groups with at least 3 items, one
 * per gender and article type, so they differ clearly. Each history mostly views and likes items
 * of its group, with a purchase and a little browsing outside it.
 */
export function makePersonas(items: readonly PersonaItem[], options: PersonaOptions): Persona[] {
  const count = options.count ?? 4;
  const events = options.events ?? 12;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`makePersonas: count must be a positive integer, got ${count}`);
  if (!Number.isInteger(events) || events < 2) throw new RangeError(`makePersonas: events must be an integer ≥ 2, got ${events}`);
  if (!Number.isFinite(options.now)) throw new RangeError('makePersonas: now must be an epoch time in ms');
  const groups = new Map<string, PersonaItem[]>();
  for (const item of items) {
    const key = `${item.gender}|${item.articleType}|${item.colour}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const ranked = [...groups.entries()].filter(([, g]) => g.length >= 3).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const chosen: [string, PersonaItem[]][] = [];
  const usedKinds = new Set<string>();
  for (const entry of ranked) {
    const [gender, articleType] = entry[0].split('|');
    const kind = `${gender}|${articleType}`;
    if (usedKinds.has(kind)) continue;
    usedKinds.add(kind);
    chosen.push(entry);
    if (chosen.length === count) break;
  }
  const rng = random(options.seed ?? 7);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
  const hour = 3_600_000;
  return chosen.map(([key, group], p) => {
    const [gender, articleType, colour] = key.split('|') as [string, string, string];
    const history: HistoryEvent[] = [];
    for (let e = 0; e < events; e++) {
      const at = options.now - (events - e) * hour;
      // One event in six wanders off the group (real shoppers browse).
      if (e % 6 === 4 && items.length > group.length) history.push({ itemId: pick(items).id, type: 'view', at });
      else history.push({ itemId: pick(group).id, type: e === events - 1 ? 'purchase' : e % 3 === 2 ? 'like' : 'view', at });
    }
    return { id: `persona-${p + 1}`, label: `${gender} · ${articleType} · ${colour} (simulated)`, prefers: { gender, articleType, colour }, history };
  });
}
