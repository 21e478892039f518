import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterOsUser, type Backup, type Cluster, type Instance } from "../../api/index.ts";
import { CLUSTER_FINALIZER, restartAnnotation } from "./labels.ts";
import { planCluster, type ResolvedComponent } from "./plan.ts";

function cluster(overrides: Partial<Cluster["metadata"]> = {}, spec: Partial<Cluster["spec"]> = {}): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 1, ...overrides },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 1 }], ...spec },
  };
}

const component: ResolvedComponent = {
  name: "postgresql",
  engine: "postgresql",
  version: "15.18",
  replicas: 1,
  stopped: false,
  parameters: { shared_buffers: "128MB" },
  accounts: ["postgres"],
  limitations: ["cpu limits and requests are not enforced by the local runtime"],
};

function instance(name: string, status: Instance["status"], spec: Partial<Instance["spec"]> = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, role: "primary", parameters: { shared_buffers: "128MB" }, deleteData: true, ...spec },
    status,
  };
}

test("a new cluster gets its finalizer, an account secret per system account and one instance per replica", () => {
  const plan = planCluster({ cluster: cluster(), components: [component], instances: [], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(plan.addFinalizer, true);
  assert.deepEqual(plan.secretsToCreate, [{ name: "pg-postgresql-account-postgres", component: "postgresql", account: "postgres" }]);
  assert.deepEqual(plan.instancesToCreate.map((i) => i.name), ["pg-postgresql-0"]);
  assert.equal(plan.instancesToCreate[0]?.spec.running, true);
  assert.equal(plan.status.phase, "Creating");
  assert.equal(plan.status.conditions?.find((c) => c.type === "RuntimeLimitations")?.status, "True");
});

test("an existing, ready instance with the same spec needs nothing and the cluster is Running", () => {
  const live = instance("pg-postgresql-0", { phase: "Running", ready: true });
  const plan = planCluster(
    { cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [component], instances: [live], existingSecrets: new Set(["pg-postgresql-account-postgres"]) },
    CLUSTER_FINALIZER,
  );
  assert.equal(plan.addFinalizer, false);
  assert.deepEqual(plan.secretsToCreate, []);
  assert.deepEqual(plan.instancesToCreate, []);
  assert.deepEqual(plan.instancesToUpdate, []);
  assert.equal(plan.status.phase, "Running");
  assert.equal(plan.status.components?.["postgresql"]?.readyReplicas, 1);
  assert.equal(plan.status.conditions?.find((c) => c.type === "Ready")?.status, "True");
});

test("stop turns instances' running off and the cluster goes Stopping, then Stopped", () => {
  const stopped = { ...component, stopped: true };
  const running = instance("pg-postgresql-0", { phase: "Running", ready: true });
  const plan = planCluster({ cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [stopped], instances: [running], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(plan.instancesToUpdate[0]?.spec.running, false);
  assert.equal(plan.status.phase, "Stopping");
  const done = instance("pg-postgresql-0", { phase: "Stopped", ready: false }, { running: false });
  const after = planCluster({ cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [stopped], instances: [done], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(after.status.phase, "Stopped");
});

test("a restart annotation reaches the instance spec and the component is Updating until it is applied", () => {
  const c = cluster({ finalizers: [CLUSTER_FINALIZER], annotations: { [restartAnnotation("postgresql")]: "r1" } });
  const live = instance("pg-postgresql-0", { phase: "Running", ready: true });
  const plan = planCluster({ cluster: { ...c, status: { phase: "Running" } }, components: [component], instances: [live], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(plan.instancesToUpdate[0]?.spec.restartRequest, "r1");
  const pending = instance("pg-postgresql-0", { phase: "Running", ready: true, appliedRestartRequest: "r0" }, { restartRequest: "r1" });
  const next = planCluster({ cluster: { ...c, status: { phase: "Running", components: { postgresql: { phase: "Running" } } } }, components: [component], instances: [pending], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(next.status.phase, "Updating");
});

test("scaling down deletes the highest ordinals", () => {
  const two = [instance("pg-postgresql-0", { ready: true }), instance("pg-postgresql-1", { ready: true }, { ordinal: 1 })];
  const plan = planCluster({ cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [component], instances: two, existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToDelete, ["pg-postgresql-1"]);
});

test("a crash-looping only instance makes the cluster Failed with the instance's message", () => {
  const crashing = instance("pg-postgresql-0", { phase: "CrashLoopBackOff", ready: false, message: "exited with code 1" });
  const plan = planCluster(
    { cluster: { ...cluster({ finalizers: [CLUSTER_FINALIZER] }), status: { phase: "Running" } }, components: [component], instances: [crashing], existingSecrets: new Set() },
    CLUSTER_FINALIZER,
  );
  assert.equal(plan.status.phase, "Failed");
  assert.match(plan.status.message ?? "", /pg-postgresql-0: exited with code 1/);
});

test("a resolve error fails the cluster and creates nothing", () => {
  const plan = planCluster({ cluster: cluster(), components: [], instances: [], existingSecrets: new Set(), resolveError: "postgresql 14.7.2 is not installed" }, CLUSTER_FINALIZER);
  assert.equal(plan.status.phase, "Failed");
  assert.deepEqual(plan.instancesToCreate, []);
  assert.deepEqual(plan.secretsToCreate, []);
});

test("deletion marks data for removal first, deletes instances, and releases the finalizer only when none remain", () => {
  const deleting = cluster({ finalizers: [CLUSTER_FINALIZER], deletionTimestamp: "2026-01-01T00:00:00Z" });
  const keepData = instance("pg-postgresql-0", { ready: true }, { deleteData: false });
  const first = planCluster({ cluster: deleting, components: [component], instances: [keepData], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(first.instancesToUpdate[0]?.spec.deleteData, true);
  assert.deepEqual(first.instancesToDelete, []);
  assert.equal(first.removeFinalizer, false);
  assert.equal(first.status.phase, "Deleting");
  const second = planCluster({ cluster: deleting, components: [component], instances: [instance("pg-postgresql-0", { ready: true })], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(second.instancesToDelete, ["pg-postgresql-0"]);
  const last = planCluster({ cluster: deleting, components: [component], instances: [], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.equal(last.removeFinalizer, true);
});

test("WipeOut deletes the cluster's backups and holds the finalizer until they are gone; Delete keeps them", () => {
  const backup = (name: string, deletionTimestamp?: string): Backup => ({
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name, namespace: "demo", ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }) },
    spec: { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" },
  });
  const deleting = (terminationPolicy: "Delete" | "WipeOut") => cluster({ finalizers: [CLUSTER_FINALIZER], deletionTimestamp: "2026-01-01T00:00:00Z" }, { terminationPolicy });
  const backups = [backup("b1"), backup("b2", "2026-01-01T00:00:01Z")];
  const wipe = planCluster({ cluster: deleting("WipeOut"), components: [component], instances: [], existingSecrets: new Set(), backups }, CLUSTER_FINALIZER);
  assert.deepEqual(wipe.backupsToDelete, ["b1"]);
  assert.equal(wipe.removeFinalizer, false);
  const done = planCluster({ cluster: deleting("WipeOut"), components: [component], instances: [], existingSecrets: new Set(), backups: [] }, CLUSTER_FINALIZER);
  assert.equal(done.removeFinalizer, true);
  const keep = planCluster({ cluster: deleting("Delete"), components: [component], instances: [], existingSecrets: new Set(), backups }, CLUSTER_FINALIZER);
  assert.equal(keep.backupsToDelete, undefined);
  assert.equal(keep.removeFinalizer, true);
});

test("a DoNotTerminate cluster that is being deleted (e.g. with its namespace) keeps everything and says why", () => {
  const deleting = cluster({ finalizers: [CLUSTER_FINALIZER], deletionTimestamp: "2026-01-01T00:00:00Z" }, { terminationPolicy: "DoNotTerminate" });
  const live = instance("pg-postgresql-0", { ready: true }, { deleteData: false });
  const plan = planCluster({ cluster: deleting, components: [component], instances: [live], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToDelete, []);
  assert.deepEqual(plan.instancesToUpdate, []);
  assert.equal(plan.removeFinalizer, false);
  assert.match(plan.status.message ?? "", /DoNotTerminate/);
});

test("an instance whose recorded port another program holds is moved; a stale or running report is not acted on", () => {
  const detectedAt = "2026-01-01T00:00:00Z";
  const taken = instance("pg-postgresql-0", { phase: "Pending", portConflict: { port: 20000, detectedAt } });
  const plan = planCluster({ cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [component], instances: [taken], existingSecrets: new Set(["pg-postgresql-account-postgres"]) }, CLUSTER_FINALIZER);
  assert.deepEqual(plan.instancesToMove, [{ name: "pg-postgresql-0", from: 20000 }]);
  const moved = instance("pg-postgresql-0", { phase: "Pending", portConflict: { port: 20000, detectedAt } }, { port: 20001 });
  const running = instance("pg-postgresql-0", { phase: "Running", pid: 42, portConflict: { port: 20000, detectedAt } });
  const stopped = instance("pg-postgresql-0", { phase: "Pending", portConflict: { port: 20000, detectedAt } }, { running: false });
  for (const live of [moved, running, stopped]) {
    const again = planCluster({ cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [component], instances: [live], existingSecrets: new Set(["pg-postgresql-account-postgres"]) }, CLUSTER_FINALIZER);
    assert.deepEqual(again.instancesToMove, [], JSON.stringify(live.spec));
  }
});

test("a new instance runs as its cluster's own OS user; a live one keeps the user its files belong to", () => {
  const first = planCluster({ cluster: cluster(), components: [component], instances: [], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  const osUser = first.instancesToCreate[0]?.spec.osUser;
  assert.equal(osUser, clusterOsUser("u1"));
  const other = planCluster({ cluster: cluster({ uid: "u2" }), components: [component], instances: [], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.notEqual(other.instancesToCreate[0]?.spec.osUser, osUser, "two clusters never share a user");
  const existing = { cluster: cluster({ finalizers: [CLUSTER_FINALIZER] }), components: [{ ...component, replicas: 2 }], existingSecrets: new Set(["pg-postgresql-account-postgres"]) };
  // Made by an older version (no osUser): it stays on the shared user, and nothing is updated for it.
  const legacy = planCluster({ ...existing, instances: [instance("pg-postgresql-0", { phase: "Running", ready: true })] }, CLUSTER_FINALIZER);
  assert.deepEqual(legacy.instancesToUpdate, []);
  assert.equal(legacy.instancesToCreate[0]?.spec.osUser, osUser);
  const own = planCluster({ ...existing, instances: [instance("pg-postgresql-0", { phase: "Running", ready: true }, { osUser })] }, CLUSTER_FINALIZER);
  assert.deepEqual(own.instancesToUpdate, []);
});

test("a Custom request the OpsRequest controller wrote into an instance's spec is kept as found, never planned away", () => {
  const customAction = { id: "op/u1", opsRequest: "demo/op", steps: [{ action: "checkpoint", arguments: {} }], timeoutSeconds: 60, requestedAt: "2026-12-07T03:00:00Z" };
  const c = cluster({ finalizers: [CLUSTER_FINALIZER], annotations: { [restartAnnotation("postgresql")]: "r1" } });
  const live = instance("pg-postgresql-0", { phase: "Running", ready: true }, { customAction, restartRequest: "r0" });
  const plan = planCluster({ cluster: { ...c, status: { phase: "Running" } }, components: [component], instances: [live], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  const [updated] = plan.instancesToUpdate;
  assert.equal(updated?.spec.restartRequest, "r1", "the plan changes the instance");
  assert.deepEqual(updated.spec.customAction, customAction, "and keeps the request");
  const unchanged = planCluster({ cluster: { ...c, status: { phase: "Running" } }, components: [component], instances: [instance("pg-postgresql-0", { phase: "Running", ready: true }, { customAction, restartRequest: "r1", osUser: clusterOsUser("u1") })], existingSecrets: new Set() }, CLUSTER_FINALIZER);
  assert.deepEqual(unchanged.instancesToUpdate, [], "the request alone is no reason to update the instance");
});
