/**
 * Interaction logs as parallel typed arrays, with user and item ids mapped to dense indices.
 */

export interface Interactions {
  /** Dense user index of each interaction, shape [n], int32 in [0, nUsers). */
  users: Int32Array;
  /** Dense item index of each interaction, shape [n], int32 in [0, nItems). */
  items: Int32Array;
  /** Explicit rating (or event weight) of each interaction, shape [n], float32. */
  ratings: Float32Array;
  /** Unix time in seconds of each interaction, shape [n], float64. */
  timestamps: Float64Array;
  nUsers: number;
  nItems: number;
  /** Original id of each dense user index, shape [nUsers], int32. */
  userIds: Int32Array;
  /** Original id of each dense item index, shape [nItems], int32. */
  itemIds: Int32Array;
}

function denseIndex(raw: Int32Array): { index: Int32Array; ids: Int32Array } {
  // Sorted ids, so dense indices follow the original numbering (1..943 → 0..942 on MovieLens).
  const ids = Int32Array.from(new Set(raw)).sort();
  const lookup = new Map<number, number>();
  ids.forEach((id, i) => lookup.set(id, i));
  const index = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) index[i] = lookup.get(raw[i]!)!;
  return { index, ids };
}

/**
 * Parses MovieLens `u.data` text: one `user item rating unix_time` line per interaction, separated
 * by tabs (any whitespace is accepted). Blank lines are skipped; a malformed line throws with its
 * line number.
 */
export function parseUData(text: string): Interactions {
  const lines = text.split('\n');
  const u: number[] = [];
  const it: number[] = [];
  const r: number[] = [];
  const t: number[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    const values = f.slice(0, 4).map(Number);
    if (f.length < 4 || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`u.data line ${n + 1}: expected "user item rating time", got "${line}"`);
    }
    u.push(values[0]!);
    it.push(values[1]!);
    r.push(values[2]!);
    t.push(values[3]!);
  }
  const users = denseIndex(Int32Array.from(u));
  const items = denseIndex(Int32Array.from(it));
  return {
    users: users.index,
    items: items.index,
    ratings: Float32Array.from(r),
    timestamps: Float64Array.from(t),
    nUsers: users.ids.length,
    nItems: items.ids.length,
    userIds: users.ids,
    itemIds: items.ids,
  };
}

/** The interactions at `rows` (indices into `data`), keeping the same user and item indexing. */
export function subset(data: Interactions, rows: Int32Array): Interactions {
  const n = rows.length;
  const out: Interactions = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    ratings: new Float32Array(n),
    timestamps: new Float64Array(n),
    nUsers: data.nUsers,
    nItems: data.nItems,
    userIds: data.userIds,
    itemIds: data.itemIds,
  };
  for (let k = 0; k < n; k++) {
    const i = rows[k]!;
    out.users[k] = data.users[i]!;
    out.items[k] = data.items[i]!;
    out.ratings[k] = data.ratings[i]!;
    out.timestamps[k] = data.timestamps[i]!;
  }
  return out;
}

/** Concatenates interaction sets that share one user and item indexing. */
export function concat(parts: Interactions[]): Interactions {
  const first = parts[0];
  if (!first) throw new Error('concat needs at least one part');
  const n = parts.reduce((s, p) => s + p.users.length, 0);
  const out: Interactions = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    ratings: new Float32Array(n),
    timestamps: new Float64Array(n),
    nUsers: first.nUsers,
    nItems: first.nItems,
    userIds: first.userIds,
    itemIds: first.itemIds,
  };
  let at = 0;
  for (const p of parts) {
    out.users.set(p.users, at);
    out.items.set(p.items, at);
    out.ratings.set(p.ratings, at);
    out.timestamps.set(p.timestamps, at);
    at += p.users.length;
  }
  return out;
}
