import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultAdmitters } from "./admission/index.ts";
import { createOpenApi, definitionName } from "./openapi.ts";
import { parseRoute } from "./route.ts";
import { findKind } from "../api/index.ts";

const registry = defaultAdmitters();
const openApi = createOpenApi({ schemaOf: (kind) => registry.get(kind.kind)?.schema, writable: (kind) => registry.get(kind.kind)?.readOnly === undefined }, "0.1.0");

/** The value at a path of keys in a generated document. */
function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}

test("the v3 index lists every group version with a hashed URL that routes to its document", () => {
  const paths = openApi.v3Index()["paths"] as Record<string, { serverRelativeURL: string }>;
  assert.ok(paths["api/v1"]);
  const cluster = paths["apis/apps.kubeblocks.io/v1"];
  assert.ok(cluster);
  assert.match(cluster.serverRelativeURL, /^\/openapi\/v3\/apis\/apps\.kubeblocks\.io\/v1\?hash=[0-9A-F]{128}$/);
  assert.deepEqual(parseRoute(cluster.serverRelativeURL.split("?")[0] ?? ""), { type: "openapiV3", path: "apis/apps.kubeblocks.io/v1" });
  assert.equal(openApi.v3("apis/nothing.example/v1"), undefined);
});

test("a kind's schema comes from its zod schema, with its GVK and the list merge keys kubectl's apply uses", () => {
  const document = openApi.v3("apis/apps.kubeblocks.io/v1");
  const kind = findKind("cluster");
  assert.ok(kind);
  const schema = at(document, "components", "schemas", definitionName(kind));
  assert.deepEqual(at(schema, "x-kubernetes-group-version-kind"), [{ group: "apps.kubeblocks.io", version: "v1", kind: "Cluster" }]);
  const componentSpecs = at(schema, "properties", "spec", "properties", "componentSpecs");
  assert.equal(at(componentSpecs, "x-kubernetes-patch-merge-key"), "name");
  assert.deepEqual(at(componentSpecs, "x-kubernetes-list-map-keys"), ["name"]);
  assert.equal(at(componentSpecs, "items", "properties", "replicas", "type"), "integer");
  assert.ok((at(schema, "properties", "spec", "properties", "terminationPolicy", "enum") as string[]).includes("WipeOut"));
  assert.equal(typeof at(schema, "properties", "spec", "description"), "string");
  assert.match(String(at(schema, "properties", "spec", "properties", "terminationPolicy", "description")), /WipeOut also deletes/, "the zod schema's description");
  assert.match(String(at(schema, "properties", "spec", "properties", "shardings", "description")), /^Refused by Holdfast: sharded clusters/, "a refused field says so");
});

test("PATCH is described with its four media types and the write parameters kubectl looks for", () => {
  const patch = at(openApi.v3("apis/apps.kubeblocks.io/v1"), "paths", "/apis/apps.kubeblocks.io/v1/namespaces/{namespace}/clusters/{name}", "patch");
  assert.deepEqual(at(patch, "x-kubernetes-group-version-kind"), { group: "apps.kubeblocks.io", version: "v1", kind: "Cluster" });
  assert.deepEqual(Object.keys(at(patch, "requestBody", "content") as object).sort(), ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]);
  const names = (at(patch, "parameters") as { name: string }[]).map((p) => p.name);
  for (const name of ["dryRun", "fieldManager", "fieldValidation", "force"]) assert.ok(names.includes(name), name);
});

test("read-only kinds have no write operations; v2 JSON has every definition", () => {
  const node = at(openApi.v3("apis/holdfast.io/v1alpha1"), "paths", "/apis/holdfast.io/v1alpha1/nodes/{name}");
  assert.ok(at(node, "get"));
  assert.equal(at(node, "patch"), undefined, "nodes are written by their node agents only");
  const v2 = openApi.v2();
  assert.equal(v2["swagger"], "2.0");
  assert.ok(at(v2, "definitions", "io.kubeblocks.apps.v1.Cluster"));
  assert.ok(at(v2, "definitions", "io.k8s.api.core.v1.Namespace"));
});
