import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, ComponentReplicationStatus, Instance, InstanceStatus, OpsRequest } from "../../api/index.ts";
import { opsProgress } from "./progress.ts";
import { chooseSwitchoverCandidate, planSwitchover, switchoverRecord, switchoverRecorded, switchoverToken } from "./switchover.ts";

function cluster(record: ComponentReplicationStatus | undefined): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "c1" },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    ...(record === undefined ? {} : { status: { replication: { postgresql: record } } }),
  };
}

function ops(entry: { instanceName: string; candidateName?: string }): OpsRequest {
  return {
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsRequest",
    metadata: { name: "sw", namespace: "demo", uid: "o1" },
    spec: { clusterName: "pg", type: "Switchover", switchover: [{ componentName: "postgresql", ...entry }] },
  };
}

function instance(ordinal: number, status: InstanceStatus = {}, fenced = false): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, replication: fenced ? { fenced } : {} },
    status: { ready: true, role: ordinal === 0 ? "primary" : "secondary", phase: "Running", ...status },
  };
}

const PRIMARY_0 = { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-0" };

describe("planSwitchover", () => {
  it("moves the primary to the named candidate", () => {
    const planned = planSwitchover(ops({ instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-2" }), cluster(PRIMARY_0), [instance(0), instance(1), instance(2)]);
    assert.deepEqual(planned, { plans: [{ component: "postgresql", from: "pg-postgresql-0", to: "pg-postgresql-2" }] });
  });

  it("without a candidate, picks the ready replica with the least lag", () => {
    const members = [instance(0), instance(1, { replication: { lagBytes: 9000 } }), instance(2, { replication: { lagBytes: 10 } }), instance(3, { replication: { lagBytes: 0 }, ready: false })];
    assert.equal(chooseSwitchoverCandidate(members, "pg-postgresql-0"), "pg-postgresql-2");
    assert.deepEqual(planSwitchover(ops({ instanceName: "pg-postgresql-0" }), cluster(PRIMARY_0), members), { plans: [{ component: "postgresql", from: "pg-postgresql-0", to: "pg-postgresql-2" }] });
  });

  it("refuses what cannot be done, saying why", () => {
    const members = [instance(0), instance(1, { ready: false, phase: "Starting" }), instance(2, {}, true)];
    const failure = (o: OpsRequest, record: ComponentReplicationStatus | null = PRIMARY_0): string => {
      const planned = planSwitchover(o, cluster(record ?? undefined), members);
      return "failure" in planned ? planned.failure : "";
    };
    assert.match(failure(ops({ instanceName: "pg-postgresql-1" })), /pg-postgresql-1 is not the primary .* the primary is pg-postgresql-0/);
    assert.match(failure(ops({ instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-1" })), /not a ready replica \(it is Starting, secondary\)/);
    assert.match(failure(ops({ instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-9" })), /not an instance of component postgresql/);
    assert.match(failure(ops({ instanceName: "pg-postgresql-0" })), /no ready replica/, "the fenced and the starting replica do not count");
    assert.match(failure(ops({ instanceName: "pg-postgresql-0" }), null), /has no primary yet/);
    assert.match(failure(ops({ instanceName: "pg-postgresql-0" }), { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-1" }), /already changing its primary/);
  });
});

describe("switchover progress", () => {
  const request = ops({ instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-1" });
  const plan = { component: "postgresql", from: "pg-postgresql-0", to: "pg-postgresql-1" };

  it("records the request once, and is done only when the roles are swapped and both run in them", () => {
    const record = switchoverRecord(PRIMARY_0, plan, request, "2026-01-01T00:00:00Z");
    assert.equal(record.targetPrimary, "pg-postgresql-1");
    assert.equal(record.roleChange?.requestedBy, switchoverToken(request));
    assert.equal(switchoverRecorded(request, cluster(record)), true);
    assert.equal(switchoverRecorded(request, cluster(PRIMARY_0)), false);

    const running = opsProgress(request, cluster(record), [instance(0), instance(1)]);
    assert.deepEqual(running, { done: 0, total: 1, finished: false });
    const change = record.roleChange;
    assert.ok(change);
    const promoted = { ...record, currentPrimary: "pg-postgresql-1", roleChange: { ...change, result: "Succeeded" as const } };
    const rejoining = [instance(0, { role: undefined, ready: false, phase: "Initializing" }), instance(1, { role: "primary" })];
    assert.equal(opsProgress(request, cluster(promoted), rejoining).finished, false, "the old primary has not rejoined yet");
    const swapped = [instance(0, { role: "secondary" }), instance(1, { role: "primary" })];
    assert.deepEqual(opsProgress(request, cluster(promoted), swapped), { done: 1, total: 1, finished: true });
  });

  it("fails with the ha controller's message when the switchover failed", () => {
    const record = switchoverRecord(PRIMARY_0, plan, request, "2026-01-01T00:00:00Z");
    const change = record.roleChange;
    assert.ok(change);
    const failed = { ...record, targetPrimary: "pg-postgresql-0", roleChange: { ...change, result: "Failed" as const, message: "pg-postgresql-1 did not receive all of pg-postgresql-0's WAL" } };
    assert.match(opsProgress(request, cluster(failed), [instance(0), instance(1)]).failure ?? "", /did not receive all/);
  });
});
