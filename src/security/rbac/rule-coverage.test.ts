import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PolicyRule } from "../../api/index.ts";
import { breakdownRule, describeRule, uncoveredRules } from "./rule-coverage.ts";

const covers = (owner: PolicyRule[], servant: PolicyRule[]): boolean => uncoveredRules(owner, servant).length === 0;
const r = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
  ...(resourceNames === undefined ? {} : { resourceNames }),
});

describe("uncoveredRules", () => {
  it("covers a rule by the union of several owner rules", () => {
    const owner = [r([""], ["secrets"], ["get"]), r([""], ["secrets"], ["list"])];
    assert.equal(covers(owner, [r([""], ["secrets"], ["get", "list"])]), true);
    assert.deepEqual(uncoveredRules(owner, [r([""], ["secrets", "events"], ["get"])]), [r([""], ["events"], ["get"])]);
  });

  it("covers a wildcard only with the same wildcard", () => {
    assert.equal(covers([r(["*"], ["*"], ["*"])], [r(["x"], ["*"], ["*"])]), true);
    assert.equal(covers([r([""], ["secrets"], ["get", "list", "watch", "create", "update", "patch", "delete"])], [r([""], ["secrets"], ["*"])]), false);
    assert.equal(covers([r([""], ["secrets", "events"], ["get"])], [r([""], ["*"], ["get"])]), false);
    assert.equal(covers([r(["", "apps.kubeblocks.io"], ["clusters"], ["get"])], [r(["*"], ["clusters"], ["get"])]), false);
  });

  it("handles subresources: clusters does not cover clusters/status; */status does", () => {
    assert.equal(covers([r(["*"], ["clusters"], ["get"])], [r(["*"], ["clusters/status"], ["get"])]), false);
    assert.equal(covers([r(["*"], ["*/status"], ["get"])], [r(["*"], ["clusters/status"], ["get"])]), true);
    assert.equal(covers([r(["*"], ["clusters/status"], ["get"])], [r(["*"], ["*/status"], ["get"])]), false);
    assert.equal(covers([r(["*"], ["*"], ["get"])], [r(["*"], ["*/status"], ["get"])]), true);
  });

  it("treats a rule with resourceNames as narrower than one without", () => {
    const named = r([""], ["secrets"], ["get"], ["a", "b"]);
    const all = r([""], ["secrets"], ["get"]);
    assert.equal(covers([all], [named]), true);
    assert.equal(covers([named], [all]), false);
    assert.equal(covers([named], [r([""], ["secrets"], ["get"], ["a"])]), true);
    assert.deepEqual(uncoveredRules([named], [r([""], ["secrets"], ["get"], ["a", "c"])]), [r([""], ["secrets"], ["get"], ["c"])]);
  });

  it("breaks a rule into atomic rules and describes them", () => {
    assert.equal(breakdownRule(r(["", "x"], ["a", "b"], ["get", "list"], ["n1", "n2"])).length, 16);
    assert.equal(breakdownRule({ verbs: ["get"] }).length, 0);
    assert.equal(describeRule(r([""], ["secrets"], ["get"], ["a"])), '{APIGroups:[""] Resources:["secrets"] ResourceNames:["a"] Verbs:["get"]}');
  });
});
