import { test } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/index.ts";
import { CliError } from "./args.ts";
import { isUnchanged, mergeForUpdate, parseManifests, placeInNamespace, qualifiedName, updateChanged } from "./manifest.ts";

const CLUSTER_YAML = `apiVersion: apps.kubeblocks.io/v1
kind: Cluster
metadata:
  name: pg-cluster
  namespace: demo
spec:
  clusterDef: postgresql
  componentSpecs:
    - name: postgresql
      replicas: 1
`;

test("parseManifests splits documents, skips empty ones and resolves kinds", () => {
  const text = `---\n${CLUSTER_YAML}---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n`;
  const objects = parseManifests(text, "pg.yaml");
  assert.deepEqual(objects.map((o) => [o.info.kind, o.object.metadata.name]), [["Cluster", "pg-cluster"], ["Namespace", "demo"]]);
  assert.deepEqual(objects.map((o) => o.origin), ["pg.yaml#1", "pg.yaml#3"]);
});

test("parseManifests accepts JSON and expands Lists", () => {
  const list = JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } },
      { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "r" }, spec: { clusterName: "pg", type: "Restart" } },
    ],
  });
  const objects = parseManifests(list, "list.json");
  assert.deepEqual(objects.map((o) => o.info.kind), ["Namespace", "OpsRequest"]);
});

test("a syntax error anywhere fails the whole text with its line and column", () => {
  const text = `${CLUSTER_YAML}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: [oops\n`;
  assert.throws(
    () => parseManifests(text, "bad.yaml"),
    (error: unknown) => error instanceof CliError && /bad\.yaml/.test(error.message) && /document 2/.test(error.message) && /line \d+, column \d+/.test(error.message),
  );
});

test("unknown apiVersion/kind and missing names are rejected naming them", () => {
  assert.throws(() => parseManifests("apiVersion: apps.kubeblocks.io/v9\nkind: Cluster\nmetadata: {name: x}\n", "f"), /no kind "Cluster" is served in version "apps.kubeblocks.io\/v9"/);
  assert.throws(() => parseManifests("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "f"), /"Pod"/);
  assert.throws(() => parseManifests("apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "f"), /metadata.name is missing/);
  assert.throws(() => parseManifests("- 1\n- 2\n", "f"), /must be an object/);
});

test("placeInNamespace fills a missing namespace, keeps the manifest's, and refuses a contradiction with -n", () => {
  const [cluster] = parseManifests(CLUSTER_YAML.replace("  namespace: demo\n", ""), "f");
  assert.ok(cluster);
  assert.equal(placeInNamespace(cluster, "other", false).object.metadata.namespace, "other");
  const [withNs] = parseManifests(CLUSTER_YAML, "f");
  assert.ok(withNs);
  assert.equal(placeInNamespace(withNs, "default", false).object.metadata.namespace, "demo");
  assert.throws(() => placeInNamespace(withNs, "prod", true), /does not match/);
  const [ns] = parseManifests("apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: y}\n", "f");
  assert.ok(ns);
  assert.equal(placeInNamespace(ns, "default", true).object.metadata.namespace, undefined);
});

function live(): Resource {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", resourceVersion: "7", generation: 2, labels: { team: "a", keep: "yes" }, finalizers: ["f"] },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 1 }] },
    status: { phase: "Running" },
  };
}

test("mergeForUpdate takes the manifest's spec, merges labels and keeps server-owned metadata", () => {
  const manifest: Resource = {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", labels: { team: "b" }, annotations: { note: "x" } },
    spec: { terminationPolicy: "WipeOut", componentSpecs: [{ name: "postgresql", replicas: 1 }] },
  };
  const merged = mergeForUpdate(manifest, live());
  assert.deepEqual(merged.spec, manifest.spec);
  assert.deepEqual(merged.metadata.labels, { team: "b", keep: "yes" });
  assert.deepEqual(merged.metadata.annotations, { note: "x" });
  assert.equal(merged.metadata.resourceVersion, "7");
  assert.equal(merged.metadata.uid, "u1");
  assert.deepEqual(merged.metadata.finalizers, ["f"]);
  assert.deepEqual(merged.status, { phase: "Running" });
  assert.equal(isUnchanged(merged, live()), false);
});

test("isUnchanged is true when the manifest repeats the live object", () => {
  const current = live();
  const manifest: Resource = { apiVersion: current.apiVersion, kind: current.kind, metadata: { name: "pg", labels: { team: "a" } }, spec: current.spec };
  assert.equal(isUnchanged(mergeForUpdate(manifest, current), current), true);
  const relabelled = { ...manifest, metadata: { name: "pg", labels: { team: "c" } } };
  assert.equal(isUnchanged(mergeForUpdate(relabelled, current), current), false);
});

test("updateChanged trusts the generation for the spec and compares labels itself", () => {
  const before = live();
  assert.equal(updateChanged(before, { ...before, metadata: { ...before.metadata, resourceVersion: "8" } }), false);
  assert.equal(updateChanged(before, { ...before, metadata: { ...before.metadata, generation: 3 } }), true);
  assert.equal(updateChanged(before, { ...before, metadata: { ...before.metadata, labels: { team: "z" } } }), true);
  const secret: Resource = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { a: "eA==" } };
  assert.equal(updateChanged(secret, { ...secret, data: { a: "eQ==" } }), true);
  assert.equal(updateChanged(secret, { ...secret }), false);
});

test("qualifiedName follows kubectl", () => {
  const [cluster] = parseManifests(CLUSTER_YAML, "f");
  assert.ok(cluster);
  assert.equal(qualifiedName(cluster.info, "pg"), "cluster.apps.kubeblocks.io/pg");
  const [ns] = parseManifests("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "f");
  assert.ok(ns);
  assert.equal(qualifiedName(ns.info, "x"), "namespace/x");
});
