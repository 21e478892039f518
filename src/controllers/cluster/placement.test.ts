import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, TopologySpreadConstraint } from "../../api/index.ts";
import { CLUSTER_FINALIZER, componentLabels } from "./labels.ts";
import { placedInstances, placeInstance, type PlacedInstance, type PlacementRequest } from "./placement.ts";
import { planCluster, type ResolvedComponent } from "./plan.ts";
import { testNode } from "./test-fixtures.ts";

function bound(name: string, nodeName: string | undefined, extra: Partial<Instance["metadata"]> = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo", labels: componentLabels("pg", "postgresql"), ...extra },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true, ...(nodeName === undefined ? {} : { nodeName }) },
  };
}

/** An instance of `cluster`/`component` in namespace demo bound to `nodeName`. */
function placed(nodeName: string, cluster = "pg", component = "postgresql", name = `${cluster}-${component}-${nodeName}`): PlacedInstance {
  return { name, namespace: "demo", nodeName, labels: componentLabels(cluster, component) };
}

const want: PlacementRequest = { engine: "postgresql", version: "16.4", namespace: "demo", labels: componentLabels("pg", "postgresql") };

function reasonOf(placement: ReturnType<typeof placeInstance>): string {
  assert.ok("reason" in placement, JSON.stringify(placement));
  return placement.reason;
}

describe("placeInstance", () => {
  it("puts the instances of one component on different nodes, whatever the nodes' load", () => {
    const nodes = [testNode("a", true), testNode("b", true), testNode("c", true)];
    const others = [placed("b", "other"), placed("b", "other2"), placed("c", "other")];
    assert.deepEqual(placeInstance(want, { nodes, placed: [placed("a"), ...others] }), { nodeName: "c", spread: true }, "c is less loaded than b; a holds a replica");
    assert.deepEqual(placeInstance(want, { nodes, placed: [placed("a"), placed("c"), ...others] }), { nodeName: "b", spread: true }, "b is the only node without one, however loaded");
  });

  it("chooses the least loaded node by name on a tie, and counts other namespaces' same-named components as load only", () => {
    const nodes = [testNode("c", true), testNode("a", true), testNode("b", true)];
    assert.deepEqual(placeInstance(want, { nodes, placed: [] }), { nodeName: "a", spread: true });
    const elsewhere = { ...placed("a"), namespace: "other" };
    assert.deepEqual(placeInstance(want, { nodes: [testNode("a", true)], placed: [elsewhere] }), { nodeName: "a", spread: true });
  });

  it("places anyway when every node already holds one of the component, on the one with fewest, and says it is not spread", () => {
    const nodes = [testNode("a", true), testNode("b", true)];
    assert.deepEqual(placeInstance(want, { nodes, placed: [placed("a"), placed("b", "pg", "postgresql", "x"), placed("b")] }), { nodeName: "a", spread: false });
    assert.deepEqual(placeInstance(want, { nodes: [testNode("solo", true)], placed: [placed("solo"), placed("solo", "pg", "postgresql", "y")] }), { nodeName: "solo", spread: false }, "one machine keeps working");
  });

  it("skips nodes that are not Ready, being deleted, lack the version, or are to be avoided", () => {
    const deleting = { ...testNode("d", true), metadata: { name: "d", deletionTimestamp: "2026-01-01T00:00:00Z" } };
    const nodes = [testNode("a", false), testNode("b", true, {}, { postgresql: ["15.8"] }), deleting, testNode("e", true), testNode("f", true)];
    assert.deepEqual(placeInstance(want, { nodes, placed: [placed("f")] }), { nodeName: "e", spread: true });
    assert.deepEqual(placeInstance({ ...want, avoid: ["e"] }, { nodes, placed: [placed("f")] }), { nodeName: "f", spread: false });
  });

  it("says why no node fits", () => {
    assert.match(reasonOf(placeInstance(want, { nodes: [], placed: [] })), /no node is registered/);
    assert.match(reasonOf(placeInstance(want, { nodes: [testNode("a", false), testNode("b", false)], placed: [] })), /no node is Ready \(a, b\)/);
    assert.match(reasonOf(placeInstance(want, { nodes: [testNode("a", true, {}, { redis: ["7.0"] })], placed: [] })), /no Ready node has postgresql 16.4 installed/);
  });

  it("honours schedulingPolicy.nodeName, also over a node without a replica, and refuses a node that cannot run it", () => {
    const nodes = [testNode("a", true), testNode("b", true), testNode("down", false)];
    assert.deepEqual(placeInstance({ ...want, policy: { nodeName: "b" } }, { nodes, placed: [placed("b")] }), { nodeName: "b", spread: false });
    assert.match(reasonOf(placeInstance({ ...want, policy: { nodeName: "down" } }, { nodes, placed: [] })), /node down is not Ready/);
    assert.match(reasonOf(placeInstance({ ...want, policy: { nodeName: "gone" } }, { nodes, placed: [] })), /node gone, which does not exist/);
  });

  it("keeps to nodes with every nodeSelector label, and says which label none has", () => {
    const nodes = [testNode("a", true, { disk: "hdd" }), testNode("b", true, { disk: "ssd", zone: "z1" }), testNode("c", true, { disk: "ssd", zone: "z2" })];
    assert.deepEqual(placeInstance({ ...want, policy: { nodeSelector: { disk: "ssd" } } }, { nodes, placed: [] }), { nodeName: "b", spread: true });
    assert.deepEqual(placeInstance({ ...want, policy: { nodeSelector: { disk: "ssd" } } }, { nodes, placed: [placed("b")] }), { nodeName: "c", spread: true });
    assert.deepEqual(placeInstance({ ...want, policy: { nodeSelector: { disk: "ssd", zone: "z1" } } }, { nodes, placed: [placed("b")] }), { nodeName: "b", spread: false });
    assert.deepEqual(placeInstance({ ...want, policy: { nodeSelector: { "kubernetes.io/hostname": "a" } } }, { nodes, placed: [] }), { nodeName: "a", spread: true });
    assert.match(reasonOf(placeInstance({ ...want, policy: { nodeSelector: { disk: "nvme" } } }, { nodes, placed: [] })), /node a does not match schedulingPolicy.nodeSelector disk=nvme/);
  });

  describe("topologySpreadConstraints", () => {
    const zones = [testNode("a1", true, { zone: "a" }), testNode("a2", true, { zone: "a" }), testNode("b1", true, { zone: "b" }), testNode("nozone", true)];
    const byZone = (whenUnsatisfiable: TopologySpreadConstraint["whenUnsatisfiable"], maxSkew = 1): PlacementRequest => ({ ...want, policy: { topologySpreadConstraints: [{ maxSkew, topologyKey: "zone", whenUnsatisfiable }] } });

    it("DoNotSchedule keeps the skew between label values within maxSkew, and leaves out nodes without the label", () => {
      assert.deepEqual(placeInstance(byZone("DoNotSchedule"), { nodes: zones, placed: [placed("a1")] }), { nodeName: "b1", spread: true });
      assert.deepEqual(placeInstance(byZone("DoNotSchedule"), { nodes: zones, placed: [placed("a1"), placed("b1")] }), { nodeName: "a2", spread: true });
      assert.deepEqual(placeInstance(byZone("DoNotSchedule", 2), { nodes: zones, placed: [placed("b1")] }), { nodeName: "a1", spread: true });
      const zoneBDown = zones.map((n) => (n.metadata.name === "b1" ? testNode("b1", false, { zone: "b" }) : n));
      const full = reasonOf(placeInstance(byZone("DoNotSchedule"), { nodes: zoneBDown, placed: [placed("a1"), placed("a2")] }));
      assert.match(full, /would break topologySpreadConstraints\[0\] \(topologyKey zone, maxSkew 1\)/);
    });

    it("ScheduleAnyway prefers the lower skew but places anyway", () => {
      const nodes = zones.filter((n) => n.metadata.name !== "b1");
      assert.deepEqual(placeInstance(byZone("ScheduleAnyway"), { nodes, placed: [placed("a1"), placed("a2")] }), { nodeName: "nozone", spread: true });
      assert.deepEqual(placeInstance(byZone("ScheduleAnyway"), { nodes: zones, placed: [placed("a1")] }), { nodeName: "b1", spread: true }, "b1 over a2 and nozone: the zone with fewer");
    });

    it("counts the instances its labelSelector matches, in the instance's namespace", () => {
      const request: PlacementRequest = { ...want, policy: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { "app.kubernetes.io/instance": "pg" } } }] } };
      const nodes = zones.slice(0, 3);
      assert.deepEqual(placeInstance(request, { nodes, placed: [placed("a1", "pg", "proxy")] }), { nodeName: "b1", spread: true }, "the proxy of the same cluster counts");
      assert.deepEqual(placeInstance(request, { nodes, placed: [{ ...placed("b1"), namespace: "else" }] }), { nodeName: "a1", spread: true }, "another namespace does not");
    });
  });

  it("counts live bound instances only", () => {
    const live = placedInstances([bound("x", "a"), bound("z", "b", { deletionTimestamp: "2026-01-01T00:00:00Z" }), bound("w", undefined)]);
    assert.deepEqual(
      live.map((p) => [p.name, p.nodeName]),
      [["x", "a"]],
    );
  });
});

const component: ResolvedComponent = { name: "postgresql", engine: "postgresql", version: "16.4", replicas: 3, stopped: false, parameters: {}, accounts: ["postgres"], limitations: [] };
const cluster = {
  apiVersion: "apps.kubeblocks.io/v1" as const,
  kind: "Cluster" as const,
  metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 1, finalizers: [CLUSTER_FINALIZER] },
  spec: { terminationPolicy: "Delete" as const, componentSpecs: [{ name: "postgresql", replicas: 3 }] },
};

function spreadOf(plan: ReturnType<typeof planCluster>): [string, string, string] | undefined {
  const condition = plan.status.conditions?.find((c) => c.type === "InstancesSpread");
  return condition === undefined ? undefined : [condition.status, condition.reason, condition.message];
}

test("the plan spreads a new cluster's instances over the Ready nodes and says they are spread", () => {
  const nodes = { nodes: [testNode("a", true), testNode("b", true), testNode("c", true), testNode("d", false)], placed: [placed("a", "other")] };
  const plan = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.nodeName]), [["pg-postgresql-0", "b"], ["pg-postgresql-1", "c"], ["pg-postgresql-2", "a"]]);
  assert.deepEqual(spreadOf(plan)?.slice(0, 2), ["True", "OnDifferentNodes"]);
});

test("with fewer Ready nodes than replicas the plan places anyway and sets InstancesSpread False (NotEnoughNodes)", () => {
  const nodes = { nodes: [testNode("a", true), testNode("b", true)], placed: [] };
  const plan = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => i.spec.nodeName), ["a", "b", "a"]);
  const [status, reason, message] = spreadOf(plan) ?? [];
  assert.deepEqual([status, reason], ["False", "NotEnoughNodes"]);
  assert.match(message ?? "", /pg-postgresql-0, pg-postgresql-2 share node a/);
  const one = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes: { nodes: [testNode("a", true)], placed: [] } }, CLUSTER_FINALIZER);
  assert.deepEqual(one.instancesToCreate.map((i) => i.spec.nodeName), ["a", "a", "a"], "one machine keeps working");
  assert.equal(spreadOf(one)?.[0], "False");
});

test("a component pinned by schedulingPolicy.nodeName is not reported as unspread", () => {
  const nodes = { nodes: [testNode("a", true), testNode("b", true)], placed: [] };
  const plan = planCluster({ cluster, components: [{ ...component, policy: { nodeName: "b" } }], instances: [], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => i.spec.nodeName), ["b", "b", "b"]);
  assert.equal(spreadOf(plan)?.[0], "True");
});

test("a live instance keeps its node; the new ones avoid it", () => {
  const live = { ...bound("pg-postgresql-0", "b"), status: { dataDirectory: "/h/instances/demo/pg-postgresql-0/data" } };
  const nodes = { nodes: [testNode("a", true), testNode("b", true), testNode("c", true)], placed: placedInstances([live]) };
  const plan = planCluster({ cluster, components: [component], instances: [live], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.nodeName]), [["pg-postgresql-1", "a"], ["pg-postgresql-2", "c"]]);
  assert.deepEqual(plan.instancesToUpdate.map((u) => [u.name, u.spec.nodeName]), [["pg-postgresql-0", "b"]], "the live instance stays on b");
});

test("without a fitting node nothing is created and the cluster says why", () => {
  const plan = planCluster({ cluster, components: [component], instances: [], existingSecrets: new Set(), nodes: { nodes: [testNode("a", false)], placed: [] } }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate, []);
  assert.equal(plan.unscheduled?.length, 3);
  assert.match(plan.status.message ?? "", /waiting for a node: pg-postgresql-0: no node is Ready/);
});

test("an unbound instance that never started is bound by the plan; one that ran is left to the node agent holding its data", () => {
  const neverStarted = { ...bound("pg-postgresql-0", undefined), status: { phase: "Pending" as const } };
  const ran = { ...bound("pg-postgresql-1", undefined), spec: { ...bound("", undefined).spec, ordinal: 1 }, status: { dataDirectory: "/old/home/instances/demo/pg-postgresql-1/data" } };
  const nodes = { nodes: [testNode("a", true)], placed: [] };
  const plan = planCluster({ cluster, components: [{ ...component, replicas: 2 }], instances: [neverStarted, ran], existingSecrets: new Set(), nodes }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToUpdate.map((u) => [u.name, u.spec.nodeName]), [["pg-postgresql-0", "a"], ["pg-postgresql-1", undefined]]);
});
