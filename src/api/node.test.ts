import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema } from "./cluster.ts";
import { fieldNotes, pruneUnknownFields } from "./field-support.ts";
import { findKind } from "./kinds.ts";
import { isNodeReady, nodeHasEngine, nodeLostGraceMs, nodeLostSince, nodeSchema } from "./node.ts";

test("Node is a cluster-scoped holdfast.io kind, found by its short name", () => {
  assert.deepEqual(findKind("no"), { kind: "Node", group: "holdfast.io", version: "v1alpha1", plural: "nodes", singular: "node", shortNames: ["no"], namespaced: false });
});

test("a Node's status parses; readiness and installed versions are read from it", () => {
  const node = nodeSchema.parse({
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Node",
    metadata: { name: "vm1" },
    status: { engines: [{ name: "redis", versions: ["7.0.15"] }], conditions: [{ type: "Ready", status: "True", reason: "NodeAgentReady", message: "", lastTransitionTime: "2026-12-05T12:00:00Z" }] },
  });
  assert.equal(isNodeReady(node), true);
  assert.equal(nodeHasEngine(node, "redis", "7.0.15"), true);
  assert.equal(nodeHasEngine(node, "redis", "7.2.4"), false);
  assert.throws(() => nodeSchema.parse({ ...node, metadata: { name: "VM_1" } }), /DNS-1123/);
});

test("schedulingPolicy: nodeName, nodeSelector and topologySpreadConstraints are honoured; affinity, tolerations and the spread fields Holdfast lacks are refused by path", () => {
  const spread = { maxSkew: 1, topologyKey: "zone", labelSelector: { matchLabels: { app: "pg" } } };
  const cluster = {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg" },
    spec: {
      terminationPolicy: "Delete",
      clusterDef: "postgresql",
      schedulingPolicy: { nodeName: "vm1", nodeSelector: { disk: "ssd" }, topologySpreadConstraints: [spread] },
      componentSpecs: [{ name: "postgresql", schedulingPolicy: { nodeName: "vm2", tolerations: [{ key: "k" }], affinity: {}, topologySpreadConstraints: [{ ...spread, minDomains: 2, labelSelector: { matchExpressions: [{ key: "a" }] } }] } }],
    },
  };
  assert.deepEqual(pruneUnknownFields(clusterSchema, cluster).unknown, []);
  const notes = fieldNotes(clusterSchema, cluster);
  assert.deepEqual(
    notes.map((n) => [n.field, n.support]),
    [
      ["spec.componentSpecs[0].schedulingPolicy.tolerations", "refused"],
      ["spec.componentSpecs[0].schedulingPolicy.affinity", "refused"],
      ["spec.componentSpecs[0].schedulingPolicy.topologySpreadConstraints[0].labelSelector.matchExpressions", "refused"],
      ["spec.componentSpecs[0].schedulingPolicy.topologySpreadConstraints[0].minDomains", "refused"],
    ],
  );
  assert.match(notes[1]?.message ?? "", /use nodeSelector for node affinity and topologySpreadConstraints for spreading/);
  const parsed = clusterSchema.parse(cluster).spec;
  assert.equal(parsed.componentSpecs[0]?.schedulingPolicy?.nodeName, "vm2");
  assert.deepEqual(parsed.schedulingPolicy?.topologySpreadConstraints?.[0]?.whenUnsatisfiable, "DoNotSchedule", "Kubernetes' default");
  assert.throws(() => clusterSchema.parse({ ...cluster, spec: { ...cluster.spec, schedulingPolicy: { topologySpreadConstraints: [{ ...spread, maxSkew: 0 }] } } }), /maxSkew must be 1 or more/);
});

test("a node is lost once it has not been Ready for the grace period, which a cluster's annotation sets", () => {
  const node = nodeSchema.parse({
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Node",
    metadata: { name: "vm1" },
    status: { conditions: [{ type: "Ready", status: "False", reason: "NodeStatusUnknown", message: "", lastTransitionTime: "2026-12-05T12:00:00Z" }] },
  });
  const at = Date.parse("2026-12-05T12:00:00Z");
  assert.equal(nodeLostGraceMs(undefined), 60_000);
  assert.equal(nodeLostGraceMs({ "holdfast.io/node-lost-grace": "2.5" }), 2500);
  assert.equal(nodeLostGraceMs({ "holdfast.io/node-lost-grace": "soon" }), 60_000);
  assert.equal(nodeLostSince(node, at + 59_999, 60_000), undefined);
  assert.equal(nodeLostSince(node, at + 60_000, 60_000), at);
  const ready = { ...node, status: { conditions: [{ type: "Ready", status: "True" as const, reason: "NodeAgentReady", message: "", lastTransitionTime: "2026-12-05T12:00:00Z" }] } };
  assert.equal(nodeLostSince(ready, at + 600_000, 60_000), undefined);
});
