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

/**
 * Preferences are drawn in a chain, each from what the catalog offers given the previous ones, so
 * every preference has items to show on: usage → two types in that usage → two colours those types
 * come in (both of them where possible) → a season those items come in.
 */
function makePersona(random: Random, index: number, items: readonly ShopperItem[]): Persona {
  const line = random.weighted<'Men' | 'Women' | 'Kids'>(['Men', 'Women', 'Kids'], [0.42, 0.45, 0.13]);
  let genders: DemoGender[] = line === 'Kids' ? ['Boys', 'Girls'] : [line, 'Unisex'];
  let pool = items.filter((item) => (genders as string[]).includes(item.gender));
  // A small catalog may have no children's items: such a parent shops for themself instead.
  if (pool.length < 10) {
    genders = ['Women', 'Unisex'];
    pool = items.filter((item) => (genders as string[]).includes(item.gender));
  }
  if (pool.length === 0) pool = [...items];

  const typesIn = (usage: string) => countBy(pool.filter((item) => item.usage === usage), (item) => item.articleType);
  const atLeast = (counts: Map<string, number>, min: number) => new Map([...counts].filter(([, n]) => n >= min));
  const usages = countBy(pool, (item) => item.usage);
  const viable = new Map([...usages].filter(([usage]) => atLeast(typesIn(usage), 2).size >= 2));
  const [usage] = drawDistinct(random, viable.size > 0 ? viable : usages, 1) as [string];
  const inUsage = pool.filter((item) => item.usage === usage);
  const types = typesIn(usage);
  const candidates = atLeast(types, 2).size >= 2 ? atLeast(types, 2) : types;
  const [first] = drawDistinct(random, candidates, 1) as [string];
  // The second type shares two colours with the first where it can, so both colours show in both.
  const coloursOf = (type: string) => new Set(inUsage.filter((item) => item.articleType === type).map((item) => item.colour));
  const sharing = new Map(
    [...candidates].filter(([type]) => type !== first && [...coloursOf(type)].filter((colour) => coloursOf(first).has(colour)).length >= 2),
  );
  candidates.delete(first);
  const articleTypes = [first, ...drawDistinct(random, sharing.size > 0 ? sharing : candidates, 1)];

  const liked = inUsage.filter((item) => articleTypes.includes(item.articleType));
  const colourCounts = countBy(liked, (item) => item.colour);
  const inBoth = new Map([...colourCounts].filter(([colour]) => articleTypes.every((type) => liked.some((item) => item.articleType === type && item.colour === colour))));
  const colours = drawDistinct(random, inBoth.size >= 2 ? inBoth : colourCounts, 2);
  const inColours = liked.filter((item) => colours.includes(item.colour));
  const [season] = drawDistinct(random, countBy(inColours.length > 0 ? inColours : liked, (item) => item.season), 1) as [string];
  const sessions = 6 + random.int(11);
  return { user: `demo-u${String(index + 1).padStart(3, '0')}`, genders, articleTypes, colours, usage, season, sessions };
}

/** Cumulative weights for drawing an index in proportion to `weights` (undefined when all are 0). */
function sampler(weights: readonly number[]): ((random: Random) => number) | undefined {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => (cumulative[i] = total += w));
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
    return lo;
  };
}

/** How a persona picks the next item to look at. */
function chooser(persona: Persona, items: readonly ShopperItem[]) {
  const eligible = items.map((item) => (persona.genders as string[]).includes(item.gender));
  const match = (item: ShopperItem) => ({
    type: persona.articleTypes.includes(item.articleType) ? 1 : 0,
    colour: persona.colours.includes(item.colour) ? 1 : 0,
    usage: item.usage === persona.usage ? 1 : 0,
    season: item.season === persona.season ? 1 : 0,
  });
  const affinity = items.map((item) => {
    const m = match(item);
    return AFFINITY.type * m.type + AFFINITY.colour * m.colour + AFFINITY.usage * m.usage + AFFINITY.season * m.season;
  });
  const browse = sampler(
    items.map((item, i) => {
      if (!eligible[i]) return 0;
      const m = match(item);
      return Math.exp(BROWSE_PULL.type * m.type + BROWSE_PULL.colour * m.colour + BROWSE_PULL.usage * m.usage + BROWSE_PULL.season * m.season);
    }),
  ) as (random: Random) => number;
  const seasonal = items.map((item) => Math.exp(SEASON_PULL * match(item).season));
  const cache = new Map<string, ((random: Random) => number) | undefined>();
  const within = (type: string, usage: string | undefined, colour: string | undefined) => {
    const key = `${type}|${usage ?? ''}|${colour ?? ''}`;
    if (!cache.has(key)) {
      const keep = (item: ShopperItem, i: number) =>
        eligible[i] && item.articleType === type && (usage === undefined || item.usage === usage) && (colour === undefined || item.colour === colour);
      cache.set(key, sampler(items.map((item, i) => (keep(item, i) ? (seasonal[i] as number) : 0))));
    }
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
  const personas: Persona[] = [];
  const events: InteractionEvent[] = [];
  for (let p = 0; p < options.shoppers; p++) {
    const personaRandom = random.fork(`persona-${p}`);
    const persona = makePersona(personaRandom, p, items);
    personas.push(persona);
    const { affinity, browse, focusTypes, focused } = chooser(persona, items);

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
        const a = affinity[index] as number;
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
