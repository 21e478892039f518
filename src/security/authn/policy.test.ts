import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import { DEFAULT_AUTH_POLICY, resolveAuthPolicy } from "./policy.ts";

describe("authentication policy", () => {
  it("defaults to the product policy", () => {
    const policy = resolveAuthPolicy();
    assert.deepEqual(policy.argon2, { memoryKiB: 19456, passes: 2, parallelism: 1 });
    assert.equal(policy.sessionIdleSeconds, 1800);
    assert.equal(policy.sessionAbsoluteSeconds, 43200);
    assert.equal(policy.maxTokenLifetimeSeconds, 31_536_000);
    assert.deepEqual(policy.throttle, { baseDelaySeconds: 1, maxDelaySeconds: 900, lockThreshold: 10, lockSeconds: 900, forgetAfterSeconds: 86400 });
    assert.ok(Object.isFrozen(DEFAULT_AUTH_POLICY));
  });

  it("applies overrides and rejects nonsense, naming the field", () => {
    assert.equal(resolveAuthPolicy({ sessionIdleSeconds: 60 }).sessionIdleSeconds, 60);
    assert.throws(
      () => resolveAuthPolicy({ argon2: { memoryKiB: 4, passes: 0, parallelism: 1 } }),
      (error: unknown) => error instanceof InvalidError && error.causes.some((cause) => cause.field === "policy.argon2.passes") && error.causes.some((cause) => cause.field === "policy.argon2.memoryKiB"),
    );
  });
});
