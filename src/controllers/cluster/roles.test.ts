import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance } from "../../api/index.ts";
import { CLUSTER_FINALIZER } from "./labels.ts";
import { planCluster, type ResolvedComponent } from "./plan.ts";
import { primaryOf, roleFields } from "./roles.ts";

function cluster(record?: { currentPrimary: string }): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 1, finalizers: [CLUSTER_FINALIZER] },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    ...(record === undefined ? {} : { status: { replication: { postgresql: record } } }),
  };
}

const replicated: ResolvedComponent = {
  name: "postgresql",
  engine: "postgresql",
  version: "16.4",
  replicas: 3,
  stopped: false,
  parameters: {},
  accounts: ["postgres", "kbreplicator"],
  limitations: [],
  replicated: true,
};

function live(ordinal: number, spec: Partial<Instance["spec"]>): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, ...spec },
    status: { ready: true },
  };
}

test("a new replicated component: instance 0 is the primary, the others stream from it; secrets include the replication account", () => {
  const plan = planCluster({ cluster: cluster(), components: [replicated], instances: [], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.role, i.spec.replication]), [
    ["pg-postgresql-0", "primary", {}],
    ["pg-postgresql-1", "secondary", { upstream: "pg-postgresql-0" }],
    ["pg-postgresql-2", "secondary", { upstream: "pg-postgresql-0" }],
  ]);
  assert.deepEqual(plan.secretsToCreate.map((s) => s.name), ["pg-postgresql-account-postgres", "pg-postgresql-account-kbreplicator"]);
});

test("after a switchover the plan keeps the roles the ha controller set, and new replicas stream from the current primary", () => {
  const instances = [
    live(0, { role: "secondary", replication: { upstream: "pg-postgresql-1" } }),
    live(1, { role: "primary", replication: { fenceOnExit: true } }),
  ];
  const plan = planCluster({ cluster: cluster({ currentPrimary: "pg-postgresql-1" }), components: [replicated], instances, existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToUpdate, [], "nothing of the ha controller's is undone");
  assert.deepEqual(plan.instancesToCreate.map((i) => [i.name, i.spec.role, i.spec.replication]), [["pg-postgresql-2", "secondary", { upstream: "pg-postgresql-1" }]]);
});

test("the primary of a component: the recorded one, else the instance marked primary, else ordinal 0", () => {
  const component = { name: "postgresql", replicated: true };
  assert.equal(primaryOf(cluster({ currentPrimary: "pg-postgresql-2" }), component, []), "pg-postgresql-2");
  assert.equal(primaryOf(cluster(), component, [live(1, { role: "primary", replication: {} })]), "pg-postgresql-1");
  assert.equal(primaryOf(cluster(), component, []), "pg-postgresql-0");
});

test("outside replication, roles follow the ordinal and no replication spec is set", () => {
  assert.deepEqual(roleFields(cluster(), { name: "postgresql" }, 0, []), { role: "primary" });
  assert.deepEqual(roleFields(cluster(), { name: "postgresql" }, 1, []), { role: "secondary" });
});

test("scaling in removes the highest ordinals but never the primary", () => {
  const instances = [0, 1, 2].map((o) => live(o, { role: o === 2 ? "primary" : "secondary", replication: o === 2 ? {} : { upstream: "pg-postgresql-2" } }));
  const twoReplicas = { ...replicated, replicas: 2 };
  const plan = planCluster({ cluster: cluster({ currentPrimary: "pg-postgresql-2" }), components: [twoReplicas], instances, existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToDelete, [], "the primary stays until a switchover moves the role");
  const movedAway = instances.map((i) => ({ ...i, spec: { ...i.spec, role: i.spec.ordinal === 0 ? "primary" : "secondary" } }));
  const after = planCluster({ cluster: cluster({ currentPrimary: "pg-postgresql-0" }), components: [twoReplicas], instances: movedAway, existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(after.instancesToDelete, ["pg-postgresql-2"]);
});
