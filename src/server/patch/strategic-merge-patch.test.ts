import { test } from "node:test";
import assert from "node:assert/strict";
import { listMergeOf } from "../../api/index.ts";
import { InputError } from "../../errors/index.ts";
import { applyStrategicMergePatch } from "./strategic-merge-patch.ts";

const lists = (path: string) => listMergeOf("Cluster", path);
const cluster = {
  metadata: { name: "pg", finalizers: ["a", "b"], labels: { keep: "1", drop: "2" } },
  spec: {
    terminationPolicy: "Delete",
    componentSpecs: [
      { name: "postgresql", replicas: 2, serviceVersion: "16", volumeClaimTemplates: [{ name: "data", spec: { storage: "1Gi" } }] },
      { name: "other", replicas: 1 },
    ],
  },
};

test("componentSpecs merge by name: a named element changes, the others stay, a new one is appended", () => {
  const patched = applyStrategicMergePatch(cluster, { spec: { componentSpecs: [{ name: "postgresql", replicas: 3 }, { name: "third", replicas: 1 }] } }, lists);
  assert.deepEqual((patched as typeof cluster).spec.componentSpecs, [
    { name: "postgresql", replicas: 3, serviceVersion: "16", volumeClaimTemplates: [{ name: "data", spec: { storage: "1Gi" } }] },
    { name: "other", replicas: 1 },
    { name: "third", replicas: 1 },
  ]);
  assert.equal(cluster.spec.componentSpecs[0]?.replicas, 2, "the original is not modified");
});

test("$patch: delete removes an element or a map; $patch: replace replaces a list or a map", () => {
  const deleted = applyStrategicMergePatch(cluster, { spec: { componentSpecs: [{ name: "other", $patch: "delete" }] }, metadata: { labels: { $patch: "delete" } } }, lists) as typeof cluster;
  assert.deepEqual(deleted.spec.componentSpecs.map((c) => c.name), ["postgresql"]);
  assert.equal(deleted.metadata.labels, undefined);
  const replaced = applyStrategicMergePatch(cluster, { spec: { componentSpecs: [{ name: "only", replicas: 1 }, { $patch: "replace" }] }, metadata: { labels: { $patch: "replace", fresh: "x" } } }, lists) as typeof cluster;
  assert.deepEqual(replaced.spec.componentSpecs, [{ name: "only", replicas: 1 }]);
  assert.deepEqual(replaced.metadata.labels, { fresh: "x" });
});

test("null removes a field; lists without a merge key are replaced; sets of scalars are unions", () => {
  const patched = applyStrategicMergePatch(cluster, { metadata: { labels: { drop: null }, finalizers: ["b", "c"] }, spec: { componentSpecs: [{ name: "postgresql", volumeClaimTemplates: [{ name: "data", spec: { storage: "2Gi" } }] }] } }, lists) as typeof cluster;
  assert.deepEqual(patched.metadata.labels, { keep: "1" });
  assert.deepEqual(patched.metadata.finalizers, ["a", "b", "c"]);
  assert.deepEqual(patched.spec.componentSpecs[0]?.volumeClaimTemplates, [{ name: "data", spec: { storage: "2Gi" } }]);
  const other = applyStrategicMergePatch({ spec: { tolerations: [1, 2] } }, { spec: { tolerations: [3] } }, lists);
  assert.deepEqual(other, { spec: { tolerations: [3] } });
});

test("kubectl's directives: $setElementOrder, $deleteFromPrimitiveList and $retainKeys", () => {
  const patched = applyStrategicMergePatch(
    cluster,
    {
      metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] },
      spec: { "$setElementOrder/componentSpecs": [{ name: "other" }, { name: "postgresql" }], componentSpecs: [{ name: "other", replicas: 2 }] },
    },
    lists,
  ) as typeof cluster;
  assert.deepEqual(patched.metadata.finalizers, ["b"]);
  assert.deepEqual(patched.spec.componentSpecs.map((c) => [c.name, c.replicas]), [["other", 2], ["postgresql", 2]]);
  const retained = applyStrategicMergePatch({ spec: { a: 1, b: 2, c: 3 } }, { spec: { $retainKeys: ["a", "c"], c: 4 } }, lists);
  assert.deepEqual(retained, { spec: { a: 1, c: 4 } });
});

test("malformed patches are refused with the field named", () => {
  assert.throws(() => applyStrategicMergePatch(cluster, [], lists), InputError);
  assert.throws(() => applyStrategicMergePatch(cluster, { spec: { componentSpecs: [{ replicas: 1 }] } }, lists), /spec\.componentSpecs.*merge key "name"/);
  assert.throws(() => applyStrategicMergePatch(cluster, { spec: { $patch: "explode" } }, lists), /unknown \$patch directive/);
});
