import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redisParametersFor } from "./parameters.ts";

describe("redisParametersFor", () => {
  it("leaves maxmemory unset without a memory limit", () => {
    assert.deepEqual(redisParametersFor(undefined), {});
    assert.deepEqual(redisParametersFor({ limits: { cpu: "500m" } }), {});
  });

  it("gives 80% of the limit, in bytes", () => {
    assert.deepEqual(redisParametersFor({ limits: { memory: "1Gi" } }), { maxmemory: "858993459" });
    assert.deepEqual(redisParametersFor({ limits: { memory: "0.5Gi" } }), { maxmemory: "429496729" });
    assert.deepEqual(redisParametersFor({ limits: { memory: "500M" } }), { maxmemory: "400000000" });
  });
});
