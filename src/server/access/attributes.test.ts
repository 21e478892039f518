import { test } from "node:test";
import assert from "node:assert/strict";
import { mustKind } from "../../api/index.ts";
import { isMutation, resourceAttributes } from "./attributes.ts";

const clusters = mustKind("Cluster");
const q = (text = "") => new URLSearchParams(text);

test("methods map to Kubernetes verbs", () => {
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo", name: "pg" }, "GET", q()).verb, "get");
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo" }, "GET", q()).verb, "list");
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo" }, "GET", q("watch=true")).verb, "watch");
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo" }, "POST", q()).verb, "create");
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo", name: "pg" }, "PATCH", q()).verb, "patch");
  assert.equal(resourceAttributes({ type: "resource", kind: clusters, namespace: "demo", name: "pg" }, "DELETE", q()).verb, "delete");
});

test("group, resource, subresource, namespace and name are carried", () => {
  const attributes = resourceAttributes({ type: "resource", kind: clusters, namespace: "demo", name: "pg", subresource: "status" }, "PUT", q());
  assert.deepEqual(attributes, { verb: "update", apiGroup: "apps.kubeblocks.io", resource: "clusters", subresource: "status", namespace: "demo", name: "pg" });
});

test("a namespace addressed by name is in its own namespace", () => {
  const attributes = resourceAttributes({ type: "resource", kind: mustKind("Namespace"), name: "demo" }, "DELETE", q());
  assert.equal(attributes.namespace, "demo");
});

test("reads are not mutations", () => {
  assert.deepEqual(["get", "list", "watch", "create", "update", "patch", "delete"].map(isMutation), [false, false, false, true, true, true, true]);
});
