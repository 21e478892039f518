import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema } from "./cluster.ts";
import { fieldNotes, pruneUnknownFields } from "./field-support.ts";
import { findKind } from "./kinds.ts";
import { isNodeReady, nodeHasEngine, nodeSchema } from "./node.ts";

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

test("schedulingPolicy.nodeName is honoured; the scheduler-only fields of the policy are reported, not unknown", () => {
  const cluster = {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg" },
    spec: { terminationPolicy: "Delete", clusterDef: "postgresql", schedulingPolicy: { nodeName: "vm1" }, componentSpecs: [{ name: "postgresql", schedulingPolicy: { nodeName: "vm2", tolerations: [{ key: "k" }] } }] },
  };
  assert.deepEqual(pruneUnknownFields(clusterSchema, cluster).unknown, []);
  assert.deepEqual(fieldNotes(clusterSchema, cluster).map((n) => n.field), ["spec.componentSpecs[0].schedulingPolicy.tolerations"]);
  assert.equal(clusterSchema.parse(cluster).spec.componentSpecs[0]?.schedulingPolicy?.nodeName, "vm2");
});
