import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, Node } from "../../api/index.ts";
import { CLUSTER_FINALIZER, componentLabels } from "./labels.ts";
import { placedInstances } from "./placement.ts";
import { desiredInstances, planCluster, type PlanInput, type ResolvedComponent } from "./plan.ts";
import { testNode } from "./test-fixtures.ts";

const NOT_READY_SINCE = Date.parse("2026-01-01T00:00:00Z");

function cluster(currentPrimary: string, annotations: Record<string, string> = {}): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 1, finalizers: [CLUSTER_FINALIZER], annotations },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2 }] },
    status: { replication: { postgresql: { currentPrimary, targetPrimary: currentPrimary } } },
  };
}

const component: ResolvedComponent = { name: "postgresql", engine: "postgresql", version: "16.4", replicas: 2, stopped: false, parameters: {}, accounts: ["postgres"], limitations: [], replicated: true };

function member(ordinal: number, nodeName: string, extra: Partial<Instance["spec"]> = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", labels: componentLabels("pg", "postgresql") },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, nodeName, ...extra },
    status: { phase: "Running", ready: true, pid: 100 + ordinal, dataDirectory: `/h/${ordinal}` },
  };
}

function input(live: Cluster, instances: Instance[], nodes: Node[], nowMs: number): PlanInput {
  return { cluster: live, components: [component], instances, existingSecrets: new Set(), nodes: { nodes, placed: placedInstances(instances) }, nowMs };
}

const nodes = [testNode("a", true), testNode("b", false), testNode("c", true)];

test("a secondary whose node has not been Ready for the grace period is rebuilt on another Ready node, not before", () => {
  const instances = [member(0, "a"), member(1, "b")];
  const early = planCluster(input(cluster("pg-postgresql-0"), instances, nodes, NOT_READY_SINCE + 59_000), CLUSTER_FINALIZER);
  assert.equal(early.instancesToRebuild, undefined, "within the default grace of 60 s");
  const plan = planCluster(input(cluster("pg-postgresql-0"), instances, nodes, NOT_READY_SINCE + 61_000), CLUSTER_FINALIZER);
  assert.deepEqual(
    plan.instancesToRebuild?.map((r) => [r.name, r.from, r.to]),
    [["pg-postgresql-1", "b", "c"]],
    "c: a holds the primary",
  );
  assert.match(plan.instancesToRebuild[0]?.why ?? "", /node b has not been Ready for 61 s \(node-lost grace period 60 s\)/);
  const spread = plan.status.conditions?.find((c) => c.type === "InstancesSpread");
  assert.equal(spread?.status, "True", "judged on the new node");
});

test("the holdfast.io/node-lost-grace annotation sets the grace period", () => {
  const plan = planCluster(input(cluster("pg-postgresql-0", { "holdfast.io/node-lost-grace": "5" }), [member(0, "a"), member(1, "b")], nodes, NOT_READY_SINCE + 6000), CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToRebuild?.map((r) => r.to), ["c"]);
});

test("a lost primary is not moved: it waits for the failover; a secondary waits for a ready primary", () => {
  const late = NOT_READY_SINCE + 120_000;
  const primaryLost = planCluster(input(cluster("pg-postgresql-1"), [member(0, "a"), member(1, "b")], nodes, late), CLUSTER_FINALIZER);
  assert.equal(primaryLost.instancesToRebuild, undefined);
  const bothLost = [testNode("a", false), testNode("b", false), testNode("c", true)];
  const noSource = planCluster(input(cluster("pg-postgresql-0"), [member(0, "a"), member(1, "b")], bothLost, late), CLUSTER_FINALIZER);
  assert.equal(noSource.instancesToRebuild, undefined);
  assert.match(noSource.status.message ?? "", /pg-postgresql-1: its node b is lost; waiting for a ready primary/);
  assert.match(noSource.status.message ?? "", /pg-postgresql-0: its node a is lost and it is the primary; waiting for a failover/);
});

test("a standalone instance is never rebuilt: its data exists only on its node", () => {
  const standalone = { ...component, replicas: 1, replicated: false };
  const plan = planCluster({ ...input(cluster("pg-postgresql-0"), [member(0, "b")], nodes, NOT_READY_SINCE + 120_000), components: [standalone] }, CLUSTER_FINALIZER);
  assert.equal(plan.instancesToRebuild, undefined);
});

test("a rebuild avoids the nodes the instance was rebuilt away from, and places anyway beside the primary when no other node is left", () => {
  const late = NOT_READY_SINCE + 120_000;
  const formerlyOnC = [member(0, "a"), member(1, "b", { formerNodes: ["c"] })];
  const plan = planCluster(input(cluster("pg-postgresql-0"), formerlyOnC, nodes, late), CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToRebuild?.map((r) => r.to), ["a"]);
  assert.equal(plan.status.conditions?.find((c) => c.type === "InstancesSpread")?.status, "False");
  const nowhere = planCluster(input(cluster("pg-postgresql-0"), [member(0, "a"), member(1, "b", { formerNodes: ["a", "c"] })], nodes, late), CLUSTER_FINALIZER);
  assert.equal(nowhere.instancesToRebuild, undefined);
  assert.match(nowhere.status.message ?? "", /pg-postgresql-1: its node b is lost; no node fits: .*node a still holds a former copy/);
});

test("the planned spec keeps an instance's node and former nodes", () => {
  const live = [member(0, "a"), member(1, "c", { formerNodes: ["b"] })];
  const planned = desiredInstances(cluster("pg-postgresql-0"), [component], live).find((d) => d.name === "pg-postgresql-1");
  assert.deepEqual([planned?.spec.nodeName, planned?.spec.formerNodes], ["c", ["b"]]);
});
