import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, Node } from "../../api/index.ts";
import { CLUSTER_FINALIZER } from "./labels.ts";
import { nodeLoad, placeInstance } from "./placement.ts";
import { planCluster, type ResolvedComponent } from "./plan.ts";

function node(name: string, ready: boolean, engines: Record<string, string[]> = { postgresql: ["16.4", "15.8"] }): Node {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Node",
    metadata: { name },
    spec: {},
    status: {
      engines: Object.entries(engines).map(([engine, versions]) => ({ name: engine, versions })),
      conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? "NodeAgentReady" : "NodeStatusUnknown", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }],
    },
  };
}

function bound(name: string, nodeName: string | undefined, extra: Partial<Instance["metadata"]> = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo", ...extra },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true, ...(nodeName === undefined ? {} : { nodeName }) },
  };
}

const want = { engine: "postgresql", version: "16.4" };

describe("placeInstance", () => {
  it("chooses the least loaded Ready node that has the engine version, by name on a tie", () => {
    const nodes = [node("c", true), node("a", true), node("b", true)];
    assert.deepEqual(placeInstance(want, { nodes, load: new Map([["a", 2], ["b", 1], ["c", 1]]) }), { nodeName: "b" });
    assert.deepEqual(placeInstance(want, { nodes, load: new Map() }), { nodeName: "a" });
  });

  it("skips nodes that are not Ready or lack the version", () => {
    const nodes = [node("a", false), node("b", true, { postgresql: ["15.8"] }), node("c", true)];
    assert.deepEqual(placeInstance(want, { nodes, load: new Map([["c", 9]]) }), { nodeName: "c" });
  });

  it("says why no node fits", () => {
    assert.match((placeInstance(want, { nodes: [], load: new Map() }) as { reason: string }).reason, /no node is registered/);
    assert.match((placeInstance(want, { nodes: [node("a", false)], load: new Map() }) as { reason: string }).reason, /no node is Ready \(a\)/);
    assert.match((placeInstance(want, { nodes: [node("a", true, { redis: ["7.0"] })], load: new Map() }) as { reason: string }).reason, /no Ready node has postgresql 16.4 installed/);
  });

  it("honours schedulingPolicy.nodeName, also over a less loaded node, and refuses a node that cannot run it", () => {
    const nodes = [node("a", true), node("b", true), node("down", false)];
    assert.deepEqual(placeInstance({ ...want, nodeName: "b" }, { nodes, load: new Map([["b", 5]]) }), { nodeName: "b" });
    assert.match((placeInstance({ ...want, nodeName: "down" }, { nodes, load: new Map() }) as { reason: string }).reason, /node down is not Ready/);
    assert.match((placeInstance({ ...want, nodeName: "gone" }, { nodes, load: new Map() }) as { reason: string }).reason, /node gone, which does not exist/);
  });

  it("counts live bound instances per node, not deleted or unbound ones", () => {
    const load = nodeLoad([bound("x", "a"), bound("y", "a"), bound("z", "b", { deletionTimestamp: "2026-01-01T00:00:00Z" }), bound("w", undefined)]);
    assert.deepEqual([...load.entries()], [["a", 2]]);
  });
});

const component: ResolvedComponent = { name: "postgresql", engine: "postgresql", version: "16.4", replicas: 3, stopped: false, parameters: {}, accounts: ["postgres"], limitations: [] };
const cluster = {
  apiVersion: "apps.kubeblocks.io/v1" as const,
  kind: "Cluster" as const,
  metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 1, finalizers: [CLUSTER_FINALIZER] },
  spec: { terminationPolicy: "Delete" as const, componentSpecs: [{ name: "postgresql", replicas: 3 }] },
};

test("the plan keeps a cluster's new instances on the node its live instances are bound to, even when another is less loaded", () => {
  const live = { ...bound("pg-postgresql-0", "b"), status: { dataDirectory: "/h/instances/demo/pg-postgresql-0/data" } };
  const nodes = { nodes: [node("a", true), node("b", true)], load: new Map([["b", 1]]) };
  const plan = planCluster({ cluster, components: [component], instances: [live], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.nodeName]), [["pg-postgresql-1", "b"], ["pg-postgresql-2", "b"]]);
  assert.deepEqual(plan.instancesToUpdate.map((u) => [u.name, u.spec.nodeName]), [["pg-postgresql-0", "b"]], "the live instance stays on b");
});

test("a new cluster goes to the least loaded node, all its instances together", () => {
  const nodes = { nodes: [node("a", true), node("b", true)], load: new Map([["a", 4]]) };
  const plan = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.nodeName]), [["pg-postgresql-0", "b"], ["pg-postgresql-1", "b"], ["pg-postgresql-2", "b"]]);
});

test("a cluster whose node is not Ready waits for it rather than splitting across nodes", () => {
  const live = { ...bound("pg-postgresql-0", "b"), status: { dataDirectory: "/h/instances/demo/pg-postgresql-0/data" } };
  const nodes = { nodes: [node("a", true), node("b", false)], load: new Map([["b", 1]]) };
  const plan = planCluster({ cluster, components: [component], instances: [live], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate, [], "nothing is created on node a");
  assert.match(plan.status.message ?? "", /node b is not Ready/);
});

test("without a fitting node nothing is created and the cluster says why", () => {
  const plan = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes: { nodes: [node("a", false)], load: new Map() } }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate, []);
  assert.equal(plan.unscheduled?.length, 3);
  assert.match(plan.status.message ?? "", /waiting for a node: pg-postgresql-0: no node is Ready/);
});

test("an unbound instance that never started is bound by the plan; one that ran is left to the node agent holding its data", () => {
  const neverStarted = { ...bound("pg-postgresql-0", undefined), status: { phase: "Pending" as const } };
  const ran = { ...bound("pg-postgresql-1", undefined), spec: { ...bound("", undefined).spec, ordinal: 1 }, status: { dataDirectory: "/old/home/instances/demo/pg-postgresql-1/data" } };
  const nodes = { nodes: [node("a", true)], load: new Map() };
  const plan = planCluster({ cluster, components: [{ ...component, replicas: 2 }], instances: [neverStarted, ran], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToUpdate.map((u) => [u.name, u.spec.nodeName]), [["pg-postgresql-0", "a"], ["pg-postgresql-1", undefined]]);
});
