import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bootstrapRatioInterval, percentile, pooledPercentile, seededRandom } from "./stats.ts";

/** `count` rounds of `size` samples from `sample`, drawn with a seeded generator. */
function rounds(count: number, size: number, sample: (random: () => number) => number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: size }, () => sample(random)));
}

const exponential = (mean: number) => (random: () => number) => -mean * Math.log(1 - random());

describe("bootstrapRatioInterval", () => {
  it("brackets 1 for two draws of the same distribution, and is the same for the same samples", () => {
    const a = rounds(24, 400, exponential(2), 1);
    const b = rounds(24, 400, exponential(2), 2);
    const [low, high] = bootstrapRatioInterval(a, b, 99, { iterations: 300 });
    assert.ok(low < 1 && high > 1, `[${low}, ${high}]`);
    assert.deepEqual(bootstrapRatioInterval(a, b, 99, { iterations: 300 }), [low, high]);
  });

  it("excludes 1 when one row's tail is clearly longer", () => {
    const slow = rounds(24, 400, exponential(3), 3);
    const base = rounds(24, 400, exponential(2), 4);
    const [low, high] = bootstrapRatioInterval(slow, base, 99, { iterations: 300 });
    assert.ok(low > 1.2 && high < 1.9, `[${low}, ${high}]`);
  });

  it("widens when the tail lives in a few rounds (stalls) rather than in every round", () => {
    const steady = rounds(24, 400, exponential(2), 5);
    const stalled = steady.map((round, i) => (i % 8 === 0 ? round.map((x, j) => (j < 40 ? x + 30 : x)) : round));
    const [steadyLow, steadyHigh] = bootstrapRatioInterval(steady, rounds(24, 400, exponential(2), 6), 99, { iterations: 300 });
    const [stalledLow, stalledHigh] = bootstrapRatioInterval(stalled, rounds(24, 400, exponential(2), 6), 99, { iterations: 300 });
    assert.ok(stalledHigh - stalledLow > 2 * (steadyHigh - steadyLow), `steady [${steadyLow}, ${steadyHigh}], stalled [${stalledLow}, ${stalledHigh}]`);
  });
});

describe("percentile", () => {
  it("takes the nearest rank", () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99), 99);
  });
});

describe("pooledPercentile", () => {
  it("equals the percentile of the picked rounds' samples put together, repeats included", () => {
    const all = rounds(10, 137, exponential(2), 7);
    const descending = all.map((round) => Float64Array.from(round).sort().reverse());
    for (const picks of [[0], [3, 3, 3], [9, 0, 4, 4, 7, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
      for (const p of [50, 90, 99, 100]) assert.equal(pooledPercentile(descending, picks, p), percentile(picks.flatMap((i) => all[i] ?? []), p), `picks ${picks.join(",")} p${p}`);
    }
  });
});
