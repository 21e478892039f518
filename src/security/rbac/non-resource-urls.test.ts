import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PolicyRule } from "../../api/index.ts";
import { builtinClusterRoles } from "./builtin-roles.ts";
import { describeRequest } from "./decision-reason.ts";
import { describeRule, uncoveredRules } from "./rule-coverage.ts";
import { findAllowingRule, nonResourceURLMatches, ruleAllows } from "./rule-match.ts";

const scrape = { verb: "get", apiGroup: "", resource: "", path: "/metrics" };

describe("non-resource URLs", () => {
  it("match exactly, by a /prefix/* pattern, or by *", () => {
    assert.equal(nonResourceURLMatches(["/metrics"], "/metrics"), true);
    assert.equal(nonResourceURLMatches(["/metrics"], "/metrics/extra"), false);
    assert.equal(nonResourceURLMatches(["/monitoring/*"], "/monitoring/targets"), true);
    assert.equal(nonResourceURLMatches(["/monitoring/*"], "/metrics"), false);
    assert.equal(nonResourceURLMatches(["*"], "/anything"), true);
    assert.equal(nonResourceURLMatches([], "/metrics"), false);
  });

  it("are allowed only by nonResourceURLs rules, and resource rules only allow resources", () => {
    const everyResource: PolicyRule = { apiGroups: ["*"], resources: ["*"], verbs: ["*"] };
    const metrics: PolicyRule = { verbs: ["get"], nonResourceURLs: ["/metrics"] };
    assert.equal(ruleAllows(everyResource, scrape), false, "a resource wildcard does not reach /metrics");
    assert.equal(ruleAllows(metrics, scrape), true);
    assert.equal(ruleAllows(metrics, { ...scrape, verb: "post" }), false);
    assert.equal(ruleAllows(metrics, { verb: "get", apiGroup: "", resource: "secrets", namespace: "default" }), false, "a URL rule grants no resource");
  });

  it("are held by the monitoring role and cluster-admin, and by no other built-in role", () => {
    const roles = new Map(builtinClusterRoles().map((role) => [role.metadata.name, role.rules]));
    for (const path of ["/metrics", "/monitoring/targets", "/monitoring/rules"]) {
      const request = { ...scrape, path };
      assert.ok(findAllowingRule(roles.get("monitoring") ?? [], request), `monitoring reads ${path}`);
      assert.ok(findAllowingRule(roles.get("cluster-admin") ?? [], request), `cluster-admin reads ${path}`);
      for (const name of ["admin", "edit", "view", "auditor", "system:basic-user"]) assert.equal(findAllowingRule(roles.get(name) ?? [], request), undefined, `${name} does not read ${path}`);
    }
    const monitoring = roles.get("monitoring") ?? [];
    assert.equal(findAllowingRule(monitoring, { verb: "get", apiGroup: "", resource: "secrets", namespace: "default", name: "s" }), undefined, "monitoring reads no object");
    assert.equal(findAllowingRule(monitoring, { ...scrape, path: "/healthz" }), undefined);
  });

  it("take part in the escalation check: granting /metrics needs holding it", () => {
    const wanted: PolicyRule[] = [{ verbs: ["get"], nonResourceURLs: ["/metrics"] }];
    const admin = builtinClusterRoles().find((role) => role.metadata.name === "admin")?.rules ?? [];
    assert.deepEqual(uncoveredRules(admin, wanted), wanted, "a namespace admin cannot hand out /metrics");
    assert.deepEqual(uncoveredRules([{ verbs: ["get"], nonResourceURLs: ["/metrics"] }], wanted), []);
    assert.deepEqual(uncoveredRules([{ verbs: ["*"], nonResourceURLs: ["*"] }], wanted), []);
    assert.deepEqual(uncoveredRules([{ verbs: ["get"], nonResourceURLs: ["/monitoring/*"] }], wanted), wanted);
    assert.equal(describeRule(wanted[0]!), '{NonResourceURLs:["/metrics"] Verbs:["get"]}');
    assert.equal(describeRequest(scrape), "get /metrics");
  });
});
