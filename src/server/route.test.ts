import { test } from "node:test";
import assert from "node:assert/strict";
import { mustKind } from "../api/index.ts";
import { NotFoundError } from "../errors/index.ts";
import { parseRoute, pathOf, type Route } from "./route.ts";

function resource(route: Route): { kind: string; namespace?: string | undefined; name?: string | undefined; subresource?: string | undefined } {
  assert.equal(route.type, "resource");
  return { kind: route.kind.kind, namespace: route.namespace, name: route.name, subresource: route.subresource };
}

void test("fixed paths", () => {
  assert.deepEqual(parseRoute("/healthz"), { type: "healthz" });
  assert.deepEqual(parseRoute("/version"), { type: "version" });
  assert.deepEqual(parseRoute("/api"), { type: "apiVersions" });
  assert.deepEqual(parseRoute("/api/v1"), { type: "resourceList", group: "", version: "v1" });
  assert.deepEqual(parseRoute("/apis"), { type: "groupList" });
  assert.deepEqual(parseRoute("/apis/apps.kubeblocks.io"), { type: "group", group: "apps.kubeblocks.io" });
  assert.deepEqual(parseRoute("/apis/apps.kubeblocks.io/v1/"), { type: "resourceList", group: "apps.kubeblocks.io", version: "v1" });
});

void test("namespaces are cluster-scoped objects of the core group", () => {
  assert.deepEqual(resource(parseRoute("/api/v1/namespaces")), { kind: "Namespace", namespace: undefined, name: undefined, subresource: undefined });
  assert.deepEqual(resource(parseRoute("/api/v1/namespaces/demo")), { kind: "Namespace", namespace: undefined, name: "demo", subresource: undefined });
  assert.deepEqual(resource(parseRoute("/api/v1/namespaces/demo/status")), { kind: "Namespace", namespace: undefined, name: "demo", subresource: "status" });
});

void test("namespaced core kinds, in a namespace and across namespaces", () => {
  assert.deepEqual(resource(parseRoute("/api/v1/namespaces/demo/secrets")), { kind: "Secret", namespace: "demo", name: undefined, subresource: undefined });
  assert.deepEqual(resource(parseRoute("/api/v1/namespaces/demo/secrets/pg-account")), { kind: "Secret", namespace: "demo", name: "pg-account", subresource: undefined });
  assert.deepEqual(resource(parseRoute("/api/v1/events")), { kind: "Event", namespace: undefined, name: undefined, subresource: undefined });
});

void test("group kinds with names, status and lists across namespaces", () => {
  assert.deepEqual(resource(parseRoute("/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg/status")), { kind: "Cluster", namespace: "demo", name: "pg", subresource: "status" });
  assert.deepEqual(resource(parseRoute("/apis/operations.kubeblocks.io/v1alpha1/opsrequests")), { kind: "OpsRequest", namespace: undefined, name: undefined, subresource: undefined });
  assert.deepEqual(resource(parseRoute("/apis/holdfast.io/v1alpha1/namespaces/d%2Dx/instances/pg-postgresql-0")), { kind: "Instance", namespace: "d-x", name: "pg-postgresql-0", subresource: undefined });
});

void test("unknown groups, versions, plurals and subresources are NotFound naming what is served", () => {
  assert.throws(() => parseRoute("/apis/example.com/v1/widgets"), (e: unknown) => e instanceof NotFoundError && /served groups: apps.kubeblocks.io, coordination.k8s.io, dataprotection.kubeblocks.io, holdfast.io, monitoring.coreos.com, operations.kubeblocks.io/.test(e.message));
  assert.throws(() => parseRoute("/apis/apps.kubeblocks.io/v2/namespaces/demo/clusters"), (e: unknown) => e instanceof NotFoundError && /served versions: v1/.test(e.message));
  assert.throws(() => parseRoute("/apis/apps.kubeblocks.io/v1/namespaces/demo/widgets"), (e: unknown) => e instanceof NotFoundError && /served resources: clusters/.test(e.message));
  assert.throws(() => parseRoute("/api/v1/namespaces/demo/secrets/s/scale"), /subresource scale is not served/);
  assert.throws(() => parseRoute("/api/v2/namespaces"), NotFoundError);
  assert.throws(() => parseRoute("/metrics"), NotFoundError);
  assert.throws(() => parseRoute("/apis/apps.kubeblocks.io/v1/clusters/pg"), /clusters are namespaced/);
  assert.throws(() => parseRoute("/api/v1/namespaces/demo/namespaces"), /cluster-scoped/);
});

void test("pathOf inverts parseRoute", () => {
  const cluster = mustKind("Cluster");
  assert.equal(pathOf(cluster, "demo", "pg"), "/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg");
  assert.equal(pathOf(mustKind("Namespace"), undefined, "demo"), "/api/v1/namespaces/demo");
  assert.deepEqual(resource(parseRoute(pathOf(cluster, "demo", "pg"))), { kind: "Cluster", namespace: "demo", name: "pg", subresource: undefined });
});
