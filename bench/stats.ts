/** Small statistics for benchmark output. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function formatMs(ms: number): string {
  return `${ms.toFixed(0)} ms`;
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** A pseudo-random number generator in [0, 1) from a seed (mulberry32): the same sequence every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Which of the picked rounds has the largest sample not yet taken (`heads[k]`: how many taken from pick k), or -1. */
function largestHead(descending: readonly Float64Array[], picks: readonly number[], heads: readonly number[]): number {
  let best = -1;
  let top = Number.NEGATIVE_INFINITY;
  for (const [k, pick] of picks.entries()) {
    const next = descending[pick]?.[heads[k] ?? 0];
    if (next !== undefined && next > top) [best, top] = [k, next];
  }
  return best;
}

/**
 * The p-th percentile (nearest rank) of the samples of the rounds picked by `picks` (each round sorted from the
 * largest down): the rounds' heads are merged from the top until the rank is reached, so a high percentile costs
 * the samples above it, not a sort of the whole pool.
 */
export function pooledPercentile(descending: readonly Float64Array[], picks: readonly number[], p: number): number {
  let length = 0;
  for (const i of picks) length += descending[i]?.length ?? 0;
  if (length === 0) return Number.NaN;
  const rank = Math.min(length - 1, Math.max(0, Math.ceil((p / 100) * length) - 1));
  const heads = new Array<number>(picks.length).fill(0);
  let value = Number.NaN;
  for (let taken = 0; taken < length - rank; taken++) {
    const k = largestHead(descending, picks, heads);
    value = descending[picks[k] ?? 0]?.[heads[k] ?? 0] ?? Number.NaN;
    heads[k] = (heads[k] ?? 0) + 1;
  }
  return value;
}

/**
 * How far the ratio of two rows' pooled p-th percentiles (`rows` over `base`, each a list of rounds of samples) can
 * move by chance: the rounds of each row are drawn again with replacement (a bootstrap over rounds, which keeps the
 * stalls that hit a round together), `iterations` times, and the central `confidence` share of the ratios is returned
 * as [low, high]. A fixed seed gives the same interval for the same samples.
 */
export function bootstrapRatioInterval(rows: readonly (readonly number[])[], base: readonly (readonly number[])[], p: number, options: { iterations?: number; confidence?: number; seed?: number } = {}): [number, number] {
  const { iterations = 1000, confidence = 0.95, seed = 0x2545f491 } = options;
  const random = seededRandom(seed);
  const draw = (count: number): number[] => Array.from({ length: count }, () => Math.floor(random() * count));
  const sorted = (rounds: readonly (readonly number[])[]): Float64Array[] => rounds.map((round) => Float64Array.from(round).sort().reverse());
  const [a, b] = [sorted(rows), sorted(base)];
  const ratios = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) ratios[i] = pooledPercentile(a, draw(a.length), p) / pooledPercentile(b, draw(b.length), p);
  ratios.sort();
  const tail = (1 - confidence) / 2;
  const at = (q: number): number => ratios[Math.min(iterations - 1, Math.max(0, Math.round(q * (iterations - 1))))] ?? Number.NaN;
  return [at(tail), at(1 - tail)];
}
