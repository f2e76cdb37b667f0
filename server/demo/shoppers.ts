/**
 * Simulated shoppers for the demo catalog. Each persona has a gender line, a usage (a formal
 * shopper, a sporty one…), two article types that come in that usage, two colours those types come
 * in, and a season. It browses in sessions: most sessions look at one of its types, narrowing to
 * its usage, then mostly to one of its colours, then leaning to its season; the other sessions
 * browse its whole gender line, still drawn towards what it likes. It goes down the funnel
 * (view → click → like / add to cart → purchase) more often the more an item matches it.
 *
 * The preferences are built to be read back from the events (see the tests), which is what lets a
 * recommender be checked against personas.json later. Simulated behaviour, not real shoppers.
 */
import type { DemoGender } from './articles';
import type { Random } from './random';
import type { InteractionEvent, InteractionType } from '../ingest/types';

/** The item fields the simulation looks at. */
export interface ShopperItem {
  id: string;
  gender: string;
  articleType: string;
  colour: string;
  usage: string;
  season: string;
}

/** A simulated shopper's preferences: the ground truth its events were drawn from. */
export interface Persona {
  user: string;
  /** Genders of the items this shopper browses (its own line and Unisex, or a parent's Boys and Girls). */
  genders: DemoGender[];
  articleTypes: string[];
  colours: string[];
  usage: string;
  season: string;
  sessions: number;
}

export interface SimulationOptions {
  shoppers: number;
  /** Epoch milliseconds of the first day (UTC midnight). */
  start: number;
  days: number;
}

/** Outside focused sessions: how strongly each kind of match draws a view (log-weights). */
const BROWSE_PULL = { type: 2.6, colour: 2.5, usage: 1.5, season: 1.5 } as const;
/** Share of sessions that look at one preferred type. */
const FOCUSED_SESSIONS = 0.75;
/** Within a focused session: share of views kept to the persona's usage, then to one of its colours. */
const FOCUS_USAGE = 0.85;
const FOCUS_COLOUR = 0.8;
/** Within what is left, the persona's season pulls (log-weight). */
const SEASON_PULL = 3;
/** How much each kind of match adds to an item's affinity (0–1), which drives the funnel. */
const AFFINITY = { type: 0.45, colour: 0.3, usage: 0.15, season: 0.1 } as const;
/**
 * Funnel probabilities from an item's affinity a (0–1): a click per view, then a like and an add to
 * cart per click, then a purchase per add to cart. The default demo gets about 31% clicks, 8%
 * likes, 6% adds to cart and 3% purchases per view (views lean to items the shopper likes).
 */
const FUNNEL = {
  click: (a: number) => 0.03 + 0.32 * a,
  like: (a: number) => 0.04 + 0.26 * a,
  addToCart: (a: number) => 0.02 + 0.18 * a,
  purchase: (a: number) => 0.2 + 0.35 * a,
} as const;
/** Sessions start mostly in the evening (weights by UTC hour; shoppers assumed on one time zone). */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1, 1.5, 2, 2.2, 2.3, 2.5, 2.4, 2.2, 2.2, 2.4, 2.7, 3, 3.4, 3.6, 3.2, 2.5, 1.6];
const HOURS = HOUR_WEIGHTS.map((_, hour) => hour);
const SECOND = 1000;

function countBy<T>(values: readonly T[], key: (value: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(key(value), (counts.get(key(value)) ?? 0) + 1);
  return counts;
}

/** Up to `n` distinct keys of `counts`, drawn in proportion to their counts. */
function drawDistinct(random: Random, counts: Map<string, number>, n: number): string[] {
  const left = new Map(counts);
  const out: string[] = [];
  while (out.length < n && left.size > 0) {
    const keys = [...left.keys()];
    const chosen = random.weighted(keys, keys.map((k) => left.get(k) as number));
    out.push(chosen);
    left.delete(chosen);
  }
  return out;
}

type MatchField = 'articleType' | 'colour' | 'usage' | 'season';

/** Memoises `make()` under `key`. */
function memo<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    cache.set(key, value);
  }
  return value;
}

/**
 * The catalog indexed once for every persona: item lists (row numbers in catalog order) by the
 * gender line and then by usage, article type and colour, built on first use. A persona then works
 * on the short lists of items it could see instead of catalog-sized arrays, which made simulation
 * cost about half a second per shopper on the 35k-item catalog. Lists keep catalog order, so every
 * count, draw order and cumulative weight is the one a scan of the whole catalog would give.
 */
class ShopperIndex {
  private readonly lists = new Map<string, number[]>();
  private readonly counts = new Map<string, Map<string, number>>();
  /** Each item's value of a field as a small integer (the field's values in order of first appearance). */
  readonly codes: Record<MatchField, { of: Map<string, number>; rows: Int32Array }>;

  constructor(readonly items: readonly ShopperItem[]) {
    const code = (field: MatchField) => {
      const of = new Map<string, number>();
      const rows = Int32Array.from(items, (item) => memo(of, item[field], () => of.size));
      return { of, rows };
    };
    this.codes = { articleType: code('articleType'), colour: code('colour'), usage: code('usage'), season: code('season') };
  }

  /** 1 for the codes of `values`, 0 for the others: a persona's preferences as a lookup table. */
  likes(field: MatchField, values: readonly string[]): Uint8Array {
    const table = new Uint8Array(this.codes[field].of.size);
    for (const value of values) {
      const c = this.codes[field].of.get(value);
      if (c !== undefined) table[c] = 1;
    }
    return table;
  }

  /** Items of these genders (all items for `null`). */
  pool(genders: readonly string[] | null): number[] {
    return memo(this.lists, `pool:${genders === null ? '*' : genders.join('\u0000')}`, () => {
      const out: number[] = [];
      this.items.forEach((item, i) => {
        if (genders === null || genders.includes(item.gender)) out.push(i);
      });
      return out;
    });
  }

  /** The items of `genders` (see {@link pool}) cut to items with every given field value (undefined: any), in catalog order. */
  select(genders: readonly string[] | null, where: { usage?: string; articleType?: string; colour?: string }): number[] {
    const { usage, articleType, colour } = where;
    const poolKey = genders === null ? '*' : genders.join('\u0000');
    const key = `${poolKey}|${usage ?? '\u0001'}|${articleType ?? '\u0001'}|${colour ?? '\u0001'}`;
    return memo(this.lists, key, () => {
      // Narrow from the largest list already cut: type first (then usage, then colour) keeps each step short.
      const base =
        colour !== undefined
          ? this.select(genders, { usage, articleType })
          : articleType !== undefined
            ? usage !== undefined
              ? this.select(genders, { articleType })
              : this.pool(genders)
            : this.pool(genders);
      return base.filter((i) => {
        const item = this.items[i] as ShopperItem;
        return (usage === undefined || item.usage === usage) && (articleType === undefined || item.articleType === articleType) && (colour === undefined || item.colour === colour);
      });
    });
  }

  /** countBy over `select(genders, where)` by `field`, in order of first appearance. */
  countBy(genders: readonly string[] | null, where: { usage?: string; articleType?: string }, field: 'usage' | 'articleType' | 'colour' | 'season'): Map<string, number> {
    const key = `${genders === null ? '*' : genders.join('\u0000')}|${where.usage ?? '\u0001'}|${where.articleType ?? '\u0001'}|by:${field}`;
    return memo(this.counts, key, () => countBy(this.select(genders, where), (i) => (this.items[i] as ShopperItem)[field]));
  }
}

/**
 * Preferences are drawn in a chain, each from what the catalog offers given the previous ones, so
 * every preference has items to show on: usage → two types in that usage → two colours those types
 * come in (both of them where possible) → a season those items come in.
 *
 * @returns the persona and its pool: the genders whose items it sees (null: every item, for a
 * catalog with none of the persona's genders).
 */
function makePersona(random: Random, index: number, catalog: ShopperIndex): { persona: Persona; pool: string[] | null } {
  const items = catalog.items;
  const line = random.weighted<'Men' | 'Women' | 'Kids'>(['Men', 'Women', 'Kids'], [0.42, 0.45, 0.13]);
  let genders: DemoGender[] = line === 'Kids' ? ['Boys', 'Girls'] : [line, 'Unisex'];
  let pool: string[] | null = genders;
  // A small catalog may have no children's items: such a parent shops for themself instead.
  if (catalog.pool(pool).length < 10) {
    genders = ['Women', 'Unisex'];
    pool = genders;
  }
  if (catalog.pool(pool).length === 0) pool = null;

  const typesIn = (usage: string) => catalog.countBy(pool, { usage }, 'articleType');
  const atLeast = (counts: Map<string, number>, min: number) => new Map([...counts].filter(([, n]) => n >= min));
  const usages = catalog.countBy(pool, {}, 'usage');
  const viable = new Map([...usages].filter(([usage]) => atLeast(typesIn(usage), 2).size >= 2));
  const [usage] = drawDistinct(random, viable.size > 0 ? viable : usages, 1) as [string];
  const types = typesIn(usage);
  const candidates = atLeast(types, 2).size >= 2 ? atLeast(types, 2) : new Map(types);
  const [first] = drawDistinct(random, candidates, 1) as [string];
  // The second type shares two colours with the first where it can, so both colours show in both.
  const coloursOf = (type: string) => new Set(catalog.countBy(pool, { usage, articleType: type }, 'colour').keys());
  const firstColours = coloursOf(first);
  const sharing = new Map([...candidates].filter(([type]) => type !== first && [...coloursOf(type)].filter((colour) => firstColours.has(colour)).length >= 2));
  candidates.delete(first);
  const articleTypes = [first, ...drawDistinct(random, sharing.size > 0 ? sharing : candidates, 1)];

  // The liked items' colours in catalog order of first appearance, counted, from the per-type lists.
  const byType = articleTypes.map((type) => catalog.countBy(pool, { usage, articleType: type }, 'colour'));
  const firstRow = (colour: string) => Math.min(...articleTypes.map((type) => catalog.select(pool, { usage, articleType: type, colour })[0] ?? Infinity));
  const colourCounts = new Map(
    [...new Set(byType.flatMap((counts) => [...counts.keys()]))]
      .sort((a, b) => firstRow(a) - firstRow(b))
      .map((colour) => [colour, byType.reduce((n, counts) => n + (counts.get(colour) ?? 0), 0)] as const),
  );
  const inBoth = new Map([...colourCounts].filter(([colour]) => byType.every((counts) => counts.has(colour))));
  const colours = drawDistinct(random, inBoth.size >= 2 ? inBoth : colourCounts, 2);
  const inColours = articleTypes
    .flatMap((type) => colours.flatMap((colour) => catalog.select(pool, { usage, articleType: type, colour })))
    .sort((a, b) => a - b);
  const seasonRows = inColours.length > 0 ? inColours : articleTypes.flatMap((type) => catalog.select(pool, { usage, articleType: type })).sort((a, b) => a - b);
  const [season] = drawDistinct(random, countBy(seasonRows, (i) => (items[i] as ShopperItem).season), 1) as [string];
  const sessions = 6 + random.int(11);
  return { persona: { user: `demo-u${String(index + 1).padStart(3, '0')}`, genders, articleTypes, colours, usage, season, sessions }, pool };
}

/**
 * Draws one of `rows` in proportion to `weight(row)` (undefined when no weight is positive). The
 * cumulative sums run in the order of `rows`, so a list without the zero-weight rows draws exactly
 * what the full list would.
 */
function sampler(rows: readonly number[], weight: (row: number) => number): ((random: Random) => number) | undefined {
  const cumulative = new Float64Array(rows.length);
  let total = 0;
  for (let k = 0; k < rows.length; k++) cumulative[k] = total += weight(rows[k] as number);
  if (!(total > 0)) return undefined;
  return (random) => {
    const r = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) > r) hi = mid;
      else lo = mid + 1;
    }
    return rows[lo] as number;
  };
}

/** How a persona picks the next item to look at (item rows of the catalog). */
function chooser(persona: Persona, pool: string[] | null, catalog: ShopperIndex) {
  const { codes } = catalog;
  const likesType = catalog.likes('articleType', persona.articleTypes);
  const likesColour = catalog.likes('colour', persona.colours);
  const likesUsage = catalog.likes('usage', [persona.usage]);
  const likesSeason = catalog.likes('season', [persona.season]);
  /** The item's matches as bits: type 8, colour 4, usage 2, season 1. */
  const match = (i: number) =>
    ((likesType[codes.articleType.rows[i] as number] as number) << 3) |
    ((likesColour[codes.colour.rows[i] as number] as number) << 2) |
    ((likesUsage[codes.usage.rows[i] as number] as number) << 1) |
    (likesSeason[codes.season.rows[i] as number] as number);
  // Per match pattern, computed by the same expressions as item by item, so the values are the same.
  const patterns = Array.from({ length: 16 }, (_, bits) => ({ type: (bits >> 3) & 1, colour: (bits >> 2) & 1, usage: (bits >> 1) & 1, season: bits & 1 }));
  const affinities = patterns.map((m) => AFFINITY.type * m.type + AFFINITY.colour * m.colour + AFFINITY.usage * m.usage + AFFINITY.season * m.season);
  const pulls = patterns.map((m) => Math.exp(BROWSE_PULL.type * m.type + BROWSE_PULL.colour * m.colour + BROWSE_PULL.usage * m.usage + BROWSE_PULL.season * m.season));
  const seasonPulls = patterns.map((m) => Math.exp(SEASON_PULL * m.season));
  const affinity = (i: number) => affinities[match(i)] as number;
  // Only a quarter of the sessions browse the whole line: its sampler (one pass over the line) is built on first use.
  let browseSampler: ((random: Random) => number) | undefined;
  const browse = (random: Random): number => {
    browseSampler ??= sampler(catalog.pool(pool), (i) => pulls[match(i)] as number) as (random: Random) => number;
    return browseSampler(random);
  };
  const seasonal = (i: number) => seasonPulls[match(i)] as number;
  const cache = new Map<string, ((random: Random) => number) | undefined>();
  const within = (type: string, usage: string | undefined, colour: string | undefined) => {
    const key = `${type}|${usage ?? ''}|${colour ?? ''}`;
    if (!cache.has(key)) cache.set(key, sampler(catalog.select(pool, { articleType: type, usage, colour }), seasonal));
    return cache.get(key);
  };
  const focusTypes = persona.articleTypes.filter((type) => within(type, undefined, undefined));

  /** The persona's colours this type comes in. */
  const coloursOf = new Map(focusTypes.map((type) => [type, persona.colours.filter((colour) => within(type, undefined, colour))]));

  /** A focused view narrows step by step, skipping a step that would leave nothing to see. */
  const focused = (random: Random, type: string, turn: number): number => {
    const colours = coloursOf.get(type) ?? [];
    const colour = colours[turn % Math.max(1, colours.length)];
    const usage = random.chance(FOCUS_USAGE) && within(type, persona.usage, undefined) ? persona.usage : undefined;
    if (colour === undefined) return (within(type, usage, undefined) as (random: Random) => number)(random);
    // The colour outranks the usage when the type has no item in both.
    const pick = random.chance(FOCUS_COLOUR)
      ? (within(type, usage, colour) ?? within(type, undefined, colour) ?? within(type, usage, undefined))
      : within(type, usage, undefined);
    return (pick as (random: Random) => number)(random);
  };
  return { affinity, browse, focusTypes, focused };
}

/**
 * Draws `options.shoppers` personas and their events over `options.days` days from
 * `options.start`. Events come back sorted by time (ties by user); weight is the quantity for
 * add_to_cart and purchase, 1 otherwise.
 */
export function simulateShoppers(
  random: Random,
  items: readonly ShopperItem[],
  options: SimulationOptions,
): { personas: Persona[]; events: InteractionEvent[] } {
  if (items.length === 0) throw new RangeError('simulateShoppers: no items');
  const catalog = new ShopperIndex(items);
  const personas: Persona[] = [];
  const events: InteractionEvent[] = [];
  for (let p = 0; p < options.shoppers; p++) {
    const personaRandom = random.fork(`persona-${p}`);
    const { persona, pool } = makePersona(personaRandom, p, catalog);
    personas.push(persona);
    const { affinity, browse, focusTypes, focused } = chooser(persona, pool, catalog);

    const emit = (itemIndex: number, type: InteractionType, timestamp: number, weight = 1) => {
      events.push({ userId: persona.user, itemId: (items[itemIndex] as ShopperItem).id, type, timestamp, weight });
    };
    // Focused sessions take the preferred types in turn, and their views the preferred colours,
    // so no preference goes unseen by chance.
    let typeTurn = personaRandom.int(2);
    let colourTurn = personaRandom.int(2);
    for (let s = 0; s < persona.sessions; s++) {
      const day = personaRandom.int(options.days);
      const hour = personaRandom.weighted(HOURS, HOUR_WEIGHTS);
      let t = options.start + ((day * 24 + hour) * 3600 + personaRandom.int(3600)) * SECOND;
      const focus = focusTypes.length > 0 && personaRandom.chance(FOCUSED_SESSIONS) ? focusTypes[typeTurn++ % focusTypes.length] : undefined;
      const draw = () => {
        return focus === undefined ? browse(personaRandom) : focused(personaRandom, focus, colourTurn++);
      };
      const views = 3 + personaRandom.int(10);
      let previous = -1;
      for (let v = 0; v < views; v++) {
        let index = draw();
        if (index === previous) index = draw();
        previous = index;
        const a = affinity(index);
        emit(index, 'view', t);
        if (personaRandom.chance(FUNNEL.click(a))) {
          const clicked = t + (2 + personaRandom.int(9)) * SECOND;
          emit(index, 'click', clicked);
          if (personaRandom.chance(FUNNEL.like(a))) emit(index, 'like', clicked + (3 + personaRandom.int(28)) * SECOND);
          if (personaRandom.chance(FUNNEL.addToCart(a))) {
            const quantity = personaRandom.chance(0.1) ? 2 : 1;
            const carted = clicked + (5 + personaRandom.int(56)) * SECOND;
            emit(index, 'add_to_cart', carted, quantity);
            if (personaRandom.chance(FUNNEL.purchase(a))) emit(index, 'purchase', carted + (30 + personaRandom.int(371)) * SECOND, quantity);
          }
          t = clicked;
        }
        t += (8 + personaRandom.int(53)) * SECOND;
      }
    }
  }
  events.sort((a, b) => a.timestamp - b.timestamp || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  return { personas, events };
}
