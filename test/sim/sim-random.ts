/**
 * Deterministic randomness for the simulator's seed: the same project id (and salt) gives the
 * same decision, document and history on every run and on every machine, so a test can name a
 * project and know what it holds. Nothing here reads the clock or Math.random.
 */

/** A value in [0, 1) per (id, salt): one independent coin per question asked of a project. */
export function unit(id: number, salt: number): number {
  let h = (id * 2654435761) ^ (salt * 40503);
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** A 40-hex-digit id derived from its parts, shaped like a git object id. */
export function fakeSha(...parts: Array<string | number>): string {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(parts.join(":"));
  return hasher.digest("hex");
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** an integer in [min, max] */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  /** one key of `weights`, each as likely as its weight */
  weighted<K extends string | number>(weights: ReadonlyArray<readonly [K, number]>): K;
  /** `n` distinct elements of `xs`, in their original order */
  sample<T>(xs: readonly T[], n: number): T[];
}

/**
 * A small PRNG stream (mulberry32) seeded from `parts`: used where one decision needs many draws
 * (a document's wording, a history's dates) and `unit` would need a salt per draw.
 */
export function createRng(...parts: Array<string | number>): Rng {
  let a = 0x9e3779b9;
  for (const ch of parts.join("|")) a = Math.imul(a ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick<T>(xs: readonly T[]): T {
      const x = xs[Math.floor(next() * xs.length)];
      if (x === undefined) throw new Error("pick from an empty list");
      return x;
    },
    weighted<K extends string | number>(weights: ReadonlyArray<readonly [K, number]>): K {
      const total = weights.reduce((n, [, w]) => n + w, 0);
      let r = next() * total;
      for (const [k, w] of weights) {
        r -= w;
        if (r < 0) return k;
      }
      const last = weights.at(-1);
      if (!last) throw new Error("weighted pick from an empty list");
      return last[0];
    },
    sample<T>(xs: readonly T[], n: number): T[] {
      const idx = xs.map((_, i) => i);
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [idx[i], idx[j]] = [idx[j] ?? 0, idx[i] ?? 0];
      }
      return idx
        .slice(0, Math.max(0, n))
        .sort((x, y) => x - y)
        .map((i) => xs[i] as T);
    },
  };
  return rng;
}
