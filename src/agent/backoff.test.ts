import { test } from "node:test";
import assert from "node:assert/strict";
import { nextFailureCount, restartDelayMs, STABLE_RUN_MS } from "./backoff.ts";

test("the first crash restarts at once, then the delay doubles up to a minute", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 20].map(restartDelayMs), [0, 1000, 2000, 4000, 8000, 60_000]);
});

test("a stable run resets the failure count; a quick crash adds to it", () => {
  const now = Date.parse("2026-01-01T01:00:00Z");
  assert.equal(nextFailureCount(5, new Date(now - STABLE_RUN_MS - 1).toISOString(), now), 1);
  assert.equal(nextFailureCount(5, new Date(now - 1000).toISOString(), now), 6);
  assert.equal(nextFailureCount(undefined, undefined, now), 1);
});
