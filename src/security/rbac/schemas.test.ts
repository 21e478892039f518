import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clusterRoleBindingSchema, clusterRoleSchema, roleBindingSchema, roleRefUpdateCauses, roleSchema } from "../../api/index.ts";
import { builtinClusterRoleBindings, builtinClusterRoles } from "./builtin-roles.ts";
import { clusterRoleBinding, role, roleBinding, userSubject } from "./test-fixtures.ts";

const issuePaths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] =>
  (result.error?.issues ?? []).map((issue) => issue.path.map(String).join("."));

describe("RBAC schemas", () => {
  it("accept the built-in objects and Kubernetes-style names", () => {
    for (const object of builtinClusterRoles()) assert.equal(clusterRoleSchema.safeParse(object).success, true, object.metadata.name);
    for (const object of builtinClusterRoleBindings()) assert.equal(clusterRoleBindingSchema.safeParse(object).success, true, object.metadata.name);
    assert.equal(roleSchema.safeParse({ ...role("team-a", "r", []), metadata: { name: "a/b", namespace: "team-a" } }).success, false);
  });

  it("require verbs, apiGroups and resources in a rule, and keep nonResourceURLs out of Roles", () => {
    const result = roleSchema.safeParse(role("team-a", "r", [{ verbs: [] }]));
    assert.deepEqual(issuePaths(result).sort(), ["rules.0.apiGroups", "rules.0.resources", "rules.0.verbs"]);
    assert.deepEqual(issuePaths(roleSchema.safeParse(role("team-a", "r", [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }]))), ["rules.0.nonResourceURLs"]);
    assert.equal(clusterRoleSchema.safeParse({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "h" }, rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }], aggregationRule: { clusterRoleSelectors: [] } }).success, true);
  });

  it("check roleRef and subjects", () => {
    const binding = roleBinding("team-a", "b", { kind: "ClusterRole", name: "view" }, [userSubject("alice"), { kind: "ServiceAccount", name: "robot" }]);
    assert.equal(roleBindingSchema.safeParse(binding).success, true);
    assert.deepEqual(issuePaths(roleBindingSchema.safeParse({ ...binding, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Secret", name: "x" } })), ["roleRef.kind"]);
    assert.deepEqual(issuePaths(roleBindingSchema.safeParse({ ...binding, subjects: [{ kind: "User", name: "a", apiGroup: "" }] })), ["subjects.0.apiGroup"]);
    const clusterBinding = clusterRoleBinding("c", "view", [{ kind: "ServiceAccount", name: "robot" }]);
    assert.deepEqual(issuePaths(clusterRoleBindingSchema.safeParse(clusterBinding)), ["subjects.0.namespace"]);
    assert.deepEqual(issuePaths(clusterRoleBindingSchema.safeParse({ ...clusterRoleBinding("c", "view", []), roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "x" } })), ["roleRef.kind"]);
  });

  it("refuse a roleRef change on update", () => {
    const old = roleBinding("team-a", "b", { kind: "ClusterRole", name: "view" }, []);
    assert.deepEqual(roleRefUpdateCauses(old, undefined), []);
    const addedSubject = roleBinding("team-a", "b", { kind: "ClusterRole", name: "view" }, [userSubject("x")]);
    assert.deepEqual(roleRefUpdateCauses(addedSubject, old), []);
    assert.deepEqual(roleRefUpdateCauses(roleBinding("team-a", "b", { kind: "ClusterRole", name: "edit" }, []), old).map((cause) => cause.field), ["roleRef"]);
  });
});
