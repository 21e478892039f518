import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RequestAttributes } from "../identity.ts";
import { ruleAllows } from "./rule-match.ts";

const get = (resource: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({ verb: "get", apiGroup: "apps.kubeblocks.io", resource, namespace: "team-a", ...extra });

describe("ruleAllows", () => {
  it("needs verb, group and resource to match", () => {
    const rule = { apiGroups: ["apps.kubeblocks.io"], resources: ["clusters"], verbs: ["get", "list"] };
    assert.equal(ruleAllows(rule, get("clusters")), true);
    assert.equal(ruleAllows(rule, get("clusters", { verb: "delete" })), false);
    assert.equal(ruleAllows(rule, get("clusters", { apiGroup: "" })), false);
    assert.equal(ruleAllows(rule, get("opsrequests")), false);
  });

  it("treats * as a wildcard for verbs, groups and resources, including subresources", () => {
    const rule = { apiGroups: ["*"], resources: ["*"], verbs: ["*"] };
    assert.equal(ruleAllows(rule, get("clusters", { verb: "escalate", apiGroup: "rbac.authorization.k8s.io" })), true);
    assert.equal(ruleAllows(rule, get("clusters", { subresource: "status" })), true);
  });

  it("matches a subresource only when named, or through */subresource", () => {
    const plain = { apiGroups: ["*"], resources: ["clusters"], verbs: ["get"] };
    assert.equal(ruleAllows(plain, get("clusters", { subresource: "status" })), false);
    const status = { apiGroups: ["*"], resources: ["clusters/status"], verbs: ["get"] };
    assert.equal(ruleAllows(status, get("clusters", { subresource: "status" })), true);
    assert.equal(ruleAllows(status, get("clusters")), false);
    assert.equal(ruleAllows(status, get("clusters", { subresource: "credential" })), false);
    const anyStatus = { apiGroups: ["*"], resources: ["*/status"], verbs: ["get"] };
    assert.equal(ruleAllows(anyStatus, get("opsrequests", { subresource: "status" })), true);
    assert.equal(ruleAllows(anyStatus, get("opsrequests")), false);
  });

  it("limits a rule with resourceNames to those names, and never to requests without a name", () => {
    const rule = { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"], resourceNames: ["db-password"] };
    const secret = (extra: Partial<RequestAttributes>): RequestAttributes => ({ verb: "get", apiGroup: "", resource: "secrets", namespace: "team-a", ...extra });
    assert.equal(ruleAllows(rule, secret({ name: "db-password" })), true);
    assert.equal(ruleAllows(rule, secret({ name: "other" })), false);
    assert.equal(ruleAllows(rule, secret({ verb: "list" })), false);
  });

  it("allows nothing with an empty rule", () => {
    assert.equal(ruleAllows({ verbs: ["*"] }, get("clusters")), false);
  });
});
