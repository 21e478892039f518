import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_AUTH_POLICY } from "./policy.ts";
import { addFailure, decideAttempt, delaySeconds, waitSeconds, type FailureCounter } from "./throttle.ts";

const policy = DEFAULT_AUTH_POLICY.throttle;
const T0 = 1_800_000_000_000;

function failures(count: number, at = T0, lockable = true): FailureCounter | undefined {
  let counter: FailureCounter | undefined;
  for (let i = 0; i < count; i++) counter = addFailure(counter, at, policy, lockable);
  return counter;
}

describe("throttle", () => {
  it("doubles the delay from 1 s up to 15 minutes", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10, 11, 12, 40].map((n) => delaySeconds(n, policy)),
      [0, 1, 2, 4, 8, 512, 900, 900, 900],
    );
  });

  it("counts down the wait and rounds it up to whole seconds", () => {
    const counter = failures(3);
    assert.equal(waitSeconds(counter, T0, policy), 4);
    assert.equal(waitSeconds(counter, T0 + 3001, policy), 1);
    assert.equal(waitSeconds(counter, T0 + 4000, policy), 0);
  });

  it("locks an account at the 10th consecutive failure for 15 minutes", () => {
    assert.equal(failures(9)?.lockedUntil, undefined);
    assert.equal(failures(10)?.lockedUntil, T0 + 15 * 60_000);
    assert.equal(failures(10, T0, false)?.lockedUntil, undefined, "pair and bucket counters never lock");
  });

  it("makes made-up names wait on their address's bucket, and an account only on its own pair", () => {
    assert.deepEqual(decideAttempt({ kind: "unknown", bucket: failures(2, T0, false) }, T0 + 500, policy), { kind: "wait", retryAfterSeconds: 2 });
    assert.deepEqual(decideAttempt({ kind: "account", account: failures(2), pair: failures(2, T0, false) }, T0 + 500, policy), { kind: "wait", retryAfterSeconds: 2 });
    assert.deepEqual(decideAttempt({ kind: "account", account: undefined, pair: undefined }, T0 + 500, policy), { kind: "evaluate" });
  });

  it("applies the account's delay and lock only to sources that failed against it", () => {
    const account = failures(10);
    const at = T0 + 600_000; // past the 512 s delay, inside the 15-minute lock
    assert.deepEqual(decideAttempt({ kind: "account", account, pair: failures(1, T0, false) }, at, policy), { kind: "locked" });
    assert.deepEqual(decideAttempt({ kind: "account", account, pair: failures(1, T0, false) }, T0 + 1000, policy), { kind: "wait", retryAfterSeconds: 511 });
    assert.deepEqual(decideAttempt({ kind: "account", account, pair: undefined }, at, policy), { kind: "evaluate" }, "a source with no failures gets through");
    assert.deepEqual(decideAttempt({ kind: "account", account, pair: failures(1, T0, false) }, T0 + 900_000, policy), { kind: "evaluate" }, "the lock ends");
  });

  it("forgets counters after a quiet day, so old typos never add up to a lock", () => {
    let counter = failures(9);
    counter = addFailure(counter, T0 + 24 * 3600_000, policy, true);
    assert.equal(counter.failures, 1);
    assert.equal(counter.lockedUntil, undefined);
  });
});
