import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { UnavailableError } from "../../errors/index.ts";
import { planRedisStartRole } from "./start-role.ts";

const answers = (agreed: number | undefined) => ({ answers: [], agreedMasterPort: agreed });

describe("planRedisStartRole", () => {
  it("follows the master a majority of Sentinels names, over the recorded one", () => {
    assert.deepEqual(planRedisStartRole(7101, answers(7103), 7101), { masterPort: 7103, source: "sentinels" });
  });

  it("starts as master when the Sentinels name the instance itself", () => {
    assert.deepEqual(planRedisStartRole(7103, answers(7103), 7101), { masterPort: undefined, source: "sentinels" });
  });

  it("uses the recorded master without a majority", () => {
    assert.deepEqual(planRedisStartRole(7102, answers(undefined), 7101), { masterPort: 7101, source: "last-known" });
    assert.deepEqual(planRedisStartRole(7101, answers(undefined), 7101), { masterPort: undefined, source: "last-known" });
  });

  it("refuses to guess with neither", () => {
    assert.throws(() => planRedisStartRole(7102, answers(undefined), undefined), UnavailableError);
  });
});
