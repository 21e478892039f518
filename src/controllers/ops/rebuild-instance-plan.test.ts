import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Backup, Cluster, Instance, OpsRequest } from "../../api/index.ts";
import { planRebuild, rebuildCancelProgress, rebuildProgress, type RebuildWorld } from "./rebuild-instance-plan.ts";

const TOKEN = "rb/u1";

function cluster(phase = "Running"): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg-cluster", namespace: "demo" },
    spec: { terminationPolicy: "Delete", clusterDef: "postgresql", topology: "replication", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    status: { phase: phase as "Running", replication: { postgresql: { currentPrimary: "pg-cluster-postgresql-0", targetPrimary: "pg-cluster-postgresql-0" } } },
  };
}

function instance(ordinal: number, status: Instance["status"] = { ready: true, replication: { state: "streaming" } }, rebuild?: Instance["spec"]["rebuild"]): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-cluster-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "15.18", clusterName: "pg-cluster", componentName: "postgresql", ordinal, port: 1000 + ordinal, running: true, role: ordinal === 0 ? "primary" : "secondary", parameters: {}, deleteData: true, ...(rebuild === undefined ? {} : { rebuild }) },
    status,
  };
}

function ops(entries: Record<string, unknown>[]): OpsRequest {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "rb", namespace: "demo", uid: "u1" }, spec: { clusterName: "pg-cluster", type: "RebuildInstance", rebuildFrom: entries as OpsRequest["spec"]["rebuildFrom"] } };
}

function backup(phase: string, clusterName = "pg-cluster", method = "pg-basebackup"): Backup {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: "pg-cluster-pg-basebackup", namespace: "demo" },
    spec: { backupPolicyName: "p", backupMethod: method, deletionPolicy: "Delete" },
    status: { phase: phase as "Completed", source: { cluster: clusterName, component: "postgresql", instance: "pg-cluster-postgresql-1", engine: "postgresql", version: "15.18" } },
  };
}

function world(backups: Backup[] = []): RebuildWorld {
  return { instances: [0, 1, 2].map((o) => instance(o)), backups: new Map(backups.map((b) => [b.metadata.name, b])), methodRebuilds: (_engine, method) => method === "pg-basebackup" };
}

const follows = (i: Instance): boolean => i.status?.replication?.state === "streaming";

describe("planRebuild", () => {
  it("rebuilds a replica from its primary, or from a Completed backup of its component", () => {
    assert.deepEqual(planRebuild(ops([{ componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-1" }] }]), cluster(), world()), { targets: [{ component: "postgresql", instance: "pg-cluster-postgresql-1" }] });
    const fromBackup = planRebuild(ops([{ componentName: "postgresql", inPlace: true, backupName: "pg-cluster-pg-basebackup", instances: [{ name: "pg-cluster-postgresql-2" }] }]), cluster(), world([backup("Completed")]));
    assert.deepEqual(fromBackup, { targets: [{ component: "postgresql", instance: "pg-cluster-postgresql-2", backup: { backupName: "pg-cluster-pg-basebackup", backupNamespace: "demo" } }] });
  });

  it("refuses the primary, saying to switch over first", () => {
    const plan = planRebuild(ops([{ componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-0" }] }]), cluster(), world());
    assert.ok("failure" in plan);
    assert.match(plan.failure, /is the primary of component postgresql: switch over first/);
  });

  it("refuses inPlace: false, an unknown instance or component, and a backup that cannot serve", () => {
    const failure = (entry: Record<string, unknown>, backups: Backup[] = []): string => {
      const plan = planRebuild(ops([entry]), cluster(), world(backups));
      return "failure" in plan ? plan.failure : "";
    };
    const one = { componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-1" }] };
    assert.match(failure({ ...one, inPlace: false }), /inPlace: false .* not supported/);
    assert.match(failure({ componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-7" }] }), /not an instance of component postgresql/);
    assert.match(failure({ ...one, componentName: "redis" }), /component redis is not in cluster/);
    assert.match(failure({ ...one, backupName: "pg-cluster-pg-basebackup" }), /not found in namespace demo/);
    assert.match(failure({ ...one, backupName: "pg-cluster-pg-basebackup" }, [backup("Running")]), /is Running; .*Completed backup only/);
    assert.match(failure({ ...one, backupName: "pg-cluster-pg-basebackup" }, [backup("Completed", "other")]), /taken of other\/postgresql/);
    assert.match(failure({ ...one, backupName: "pg-cluster-pg-basebackup" }, [backup("Completed", "pg-cluster", "pg-dump")]), /pg-dump, which cannot rebuild a replica/);
  });

  it("refuses a component without a primary (not replicated)", () => {
    const standalone = { ...cluster(), status: { phase: "Running" as const } };
    const plan = planRebuild(ops([{ componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-1" }] }]), standalone, world());
    assert.ok("failure" in plan && /not replicated/.test(plan.failure));
  });
});

describe("rebuildProgress", () => {
  const request = { request: TOKEN };
  const names = ["pg-cluster-postgresql-1"];
  const entry = ops([{ componentName: "postgresql", instances: [{ name: names[0] }] }]);
  const rebuilt = (state: "Rebuilding" | "Rebuilt", extra: Partial<NonNullable<Instance["status"]>> = {}): Instance =>
    instance(1, { ready: state === "Rebuilt", rebuild: { request: TOKEN, state, source: "a copy of the primary", startedAt: "t" }, ...extra }, request);

  it("pending until its agent removes the old data, processing while it copies and catches up, done once it streams", () => {
    assert.equal(rebuildProgress(entry, cluster(), [instance(1, { ready: true }, request)], { names, follows }).details?.[0]?.status, "Pending");
    assert.equal(rebuildProgress(entry, cluster(), [rebuilt("Rebuilding")], { names, follows }).details?.[0]?.status, "Processing");
    const catchingUp = rebuildProgress(entry, cluster(), [rebuilt("Rebuilt")], { names, follows });
    assert.equal(catchingUp.finished, false);
    const done = rebuildProgress(entry, cluster(), [rebuilt("Rebuilt", { replication: { state: "streaming" } })], { names, follows });
    assert.deepEqual([done.done, done.total, done.finished], [1, 1, true]);
    assert.equal(rebuildProgress(entry, cluster("Updating"), [rebuilt("Rebuilt", { replication: { state: "streaming" } })], { names, follows }).finished, false);
  });

  it("fails once the rebuild fails again and again", () => {
    const failing = rebuildProgress(entry, cluster(), [rebuilt("Rebuilding", { phase: "Failed", consecutiveFailures: 3, message: "initialisation failed: backup damaged" })], { names, follows });
    assert.match(failing.failure ?? "", /could not be rebuilt: initialisation failed: backup damaged/);
  });

  it("a cancel: a replica whose data was untouched keeps it (Cancelled), one already emptied ends rebuilt (Succeed)", () => {
    const untouched = instance(1, { ready: true, replication: { state: "streaming" } });
    const emptied = instance(2, { ready: true, replication: { state: "streaming" }, rebuild: { request: TOKEN, state: "Rebuilding", source: "s", startedAt: "t" } });
    const both = ops([{ componentName: "postgresql", instances: [{ name: "pg-cluster-postgresql-1" }, { name: "pg-cluster-postgresql-2" }] }]);
    const progress = rebuildCancelProgress(both, cluster(), [untouched, emptied], { names: ["pg-cluster-postgresql-1", "pg-cluster-postgresql-2"], follows });
    assert.deepEqual(progress.details?.map((d) => d.status), ["Cancelled", "Succeed"]);
    assert.equal(progress.finished, true);
    const stillAsked = rebuildCancelProgress(both, cluster(), [instance(1, { ready: true, replication: { state: "streaming" } }, request)], { names: ["pg-cluster-postgresql-1"], follows });
    assert.equal(stillAsked.finished, false);
  });
});
