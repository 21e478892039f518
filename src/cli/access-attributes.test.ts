import { test } from "node:test";
import assert from "node:assert/strict";
import { accessAttributes, resolveAccessResource, reviewedAccess, resourcePlural, splitResourceArgument } from "./access-attributes.ts";
import { accessReview } from "./auth-can-i.ts";

test("RESOURCE splits into name, subresource and group in kubectl's and the dotted-suffix forms", () => {
  assert.deepEqual(splitResourceArgument("clusters"), { name: "clusters", group: undefined, subresource: undefined });
  assert.deepEqual(splitResourceArgument("clusters/status"), { name: "clusters", group: undefined, subresource: "status" });
  assert.deepEqual(splitResourceArgument("clusters.apps.kubeblocks.io/status"), { name: "clusters", group: "apps.kubeblocks.io", subresource: "status" });
  assert.deepEqual(splitResourceArgument("clusters/status.apps.kubeblocks.io"), { name: "clusters", group: "apps.kubeblocks.io", subresource: "status" });
  for (const bad of ["/status", "clusters/", "clusters.", "a/b/c"]) assert.throws(() => splitResourceArgument(bad), { name: "UsageError" }, bad);
});

test("kinds resolve by any name get accepts to their plural, group and scope", () => {
  assert.deepEqual(resolveAccessResource("cl"), { resource: "clusters", group: "apps.kubeblocks.io", namespaced: true, known: true });
  assert.deepEqual(resolveAccessResource("Cluster"), { resource: "clusters", group: "apps.kubeblocks.io", namespaced: true, known: true });
  assert.deepEqual(resolveAccessResource("ops"), { resource: "opsrequests", group: "operations.kubeblocks.io", namespaced: true, known: true });
  assert.deepEqual(resolveAccessResource("inst/status"), { resource: "instances", group: "holdfast.io", subresource: "status", namespaced: true, known: true });
  assert.deepEqual(resolveAccessResource("secrets"), { resource: "secrets", group: "", namespaced: true, known: true });
  assert.deepEqual(resolveAccessResource("ns"), { resource: "namespaces", group: "", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("clusterrolebindings"), { resource: "clusterrolebindings", group: "rbac.authorization.k8s.io", namespaced: false, known: true });
});

test("security resources get their API group; * means every resource of every group", () => {
  assert.deepEqual(resolveAccessResource("users"), { resource: "users", group: "authentication.holdfast.io", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("users/disable"), { resource: "users", group: "authentication.holdfast.io", subresource: "disable", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("token"), { resource: "apitokens", group: "authentication.holdfast.io", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("auditevents"), { resource: "auditevents", group: "audit.holdfast.io", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("keyring/rotate"), { resource: "keyring", group: "security.holdfast.io", subresource: "rotate", namespaced: false, known: true });
  assert.deepEqual(resolveAccessResource("*"), { resource: "*", group: "*", namespaced: undefined, known: true });
  assert.deepEqual(resolveAccessResource("*.apps.kubeblocks.io"), { resource: "*", group: "apps.kubeblocks.io", namespaced: undefined, known: true });
});

test("unknown resources pass through as typed, with the group given", () => {
  assert.deepEqual(resolveAccessResource("widgets"), { resource: "widgets", group: "", namespaced: undefined, known: false });
  assert.deepEqual(resolveAccessResource("widgets.example.com"), { resource: "widgets", group: "example.com", namespaced: undefined, known: false });
  // A known name in a group that does not serve it is not that resource.
  assert.deepEqual(resolveAccessResource("users.example.com"), { resource: "users", group: "example.com", namespaced: undefined, known: false });
});

test("namespaces: -n, default, -A, and none for cluster-scoped resources (with a warning when -n was given)", () => {
  assert.deepEqual(accessAttributes({ verb: "create", resource: "cl", allNamespaces: false }), {
    attributes: { verb: "create", group: "apps.kubeblocks.io", resource: "clusters", namespace: "default" },
    warnings: [],
  });
  assert.deepEqual(accessAttributes({ verb: "get", resource: "secrets", name: "pg-account", namespace: "demo", allNamespaces: false }).attributes, {
    verb: "get",
    group: "",
    resource: "secrets",
    namespace: "demo",
    name: "pg-account",
  });
  assert.deepEqual(accessAttributes({ verb: "list", resource: "clusters", allNamespaces: true }).attributes, { verb: "list", group: "apps.kubeblocks.io", resource: "clusters" });
  const users = accessAttributes({ verb: "delete", resource: "users", name: "bob", namespace: "demo", allNamespaces: false });
  assert.deepEqual(users.attributes, { verb: "delete", group: "authentication.holdfast.io", resource: "users", name: "bob" });
  assert.deepEqual(users.warnings, ['Warning: resource "users" is not namespace scoped']);
  assert.deepEqual(accessAttributes({ verb: "*", resource: "*", allNamespaces: true }).attributes, { verb: "*", group: "*", resource: "*" });
  const odd = accessAttributes({ verb: "frobnicate", resource: "widgets", allNamespaces: false });
  assert.equal(odd.attributes.namespace, "default");
  assert.deepEqual(odd.warnings, ['Warning: the server doesn\'t have a resource type "widgets"; asking about it as typed', 'Warning: verb "frobnicate" is not a known verb']);
});

test("a question about yourself is a SelfSubjectAccessReview; --as / --as-group make it a SubjectAccessReview", () => {
  const attributes = { verb: "get", group: "", resource: "secrets", namespace: "demo" };
  assert.deepEqual(accessReview({ resourceAttributes: attributes }, undefined, []), {
    path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes } },
  });
  assert.deepEqual(accessReview({ resourceAttributes: attributes }, "alice", ["team-a"]), {
    path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user: "alice", groups: ["team-a"], resourceAttributes: attributes } },
  });
  assert.deepEqual(accessReview({ resourceAttributes: attributes }, "alice", []).body["spec"], { user: "alice", resourceAttributes: attributes });
});

test("a RESOURCE starting with a slash asks about a non-resource URL, without name or namespace, as kubectl does", () => {
  const metrics = reviewedAccess({ verb: "get", resource: "/metrics", allNamespaces: false });
  assert.deepEqual(metrics, { access: { nonResourceAttributes: { verb: "get", path: "/metrics" } }, warnings: [] });
  assert.deepEqual(accessReview(metrics.access, "prom", []).body["spec"], { user: "prom", nonResourceAttributes: { verb: "get", path: "/metrics" } });
  assert.deepEqual(reviewedAccess({ verb: "get", resource: "/metrics", namespace: "demo", allNamespaces: false }).warnings, ["Warning: /metrics is a non-resource URL: the namespace is ignored"]);
  assert.throws(() => reviewedAccess({ verb: "get", resource: "/metrics", name: "x", allNamespaces: false }), /takes no NAME/);
  assert.deepEqual(reviewedAccess({ verb: "get", resource: "clusters", allNamespaces: false }).access, { resourceAttributes: { verb: "get", group: "apps.kubeblocks.io", resource: "clusters", namespace: "default" } });
});

test("audit filters name resources by their plural", () => {
  assert.equal(resourcePlural("cl"), "clusters");
  assert.equal(resourcePlural("token"), "apitokens");
  assert.equal(resourcePlural("users"), "users");
  assert.equal(resourcePlural("widgets"), "widgets");
});
