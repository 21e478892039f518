import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backupSchema, CLUSTER_SNAPSHOT_ANNOTATION, opsRequestSchema, type Backup, type OpsRequest } from "./index.ts";
import { clusterSnapshotOf, opsBackupName, opsBackupObject, opsRestoreRequest, OPS_NAME_LABEL, restoredClusterFor, parseRestorePointInTime, unrestorableReason } from "./ops-backup-restore.ts";

const CLUSTER = { metadata: { name: "pg", namespace: "demo" }, spec: { componentSpecs: [{ name: "postgresql" }] } };

function ops(spec: Record<string, unknown>, name = "backup-now"): OpsRequest {
  return opsRequestSchema.parse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: "demo", creationTimestamp: "2026-12-06T22:50:07Z" }, spec: { clusterName: "pg", ...spec } });
}

function backup(phase: string | undefined, annotations?: Record<string, string>): Backup {
  return backupSchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "b", namespace: "demo", ...(annotations ? { annotations } : {}) }, spec: { backupPolicyName: "p", backupMethod: "m" }, ...(phase ? { status: { phase } } : {}) });
}

describe("Backup OpsRequest: the Backup it creates", () => {
  it("is named <ops>-<creation time> unless spec.backup.backupName says, the same on every call", () => {
    assert.equal(opsBackupName(ops({ type: "Backup" })), "backup-now-20261206225007");
    assert.equal(opsBackupName(ops({ type: "Backup", backup: { backupName: "nightly" } })), "nightly");
    const long = opsBackupName(ops({ type: "Backup" }, `a-${"x".repeat(70)}`));
    assert.ok(long.length <= 63, long);
    assert.match(long, /^a-x+-20261206225007$/);
  });

  it("uses the cluster's first component's policy and the given default method, else what the request names", () => {
    const defaults = opsBackupObject(ops({ type: "Backup" }), CLUSTER, "pg-basebackup");
    assert.deepEqual(defaults.spec, { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" });
    assert.equal(defaults.metadata.labels?.[OPS_NAME_LABEL], "backup-now");
    assert.equal(defaults.metadata.labels["app.kubernetes.io/instance"], "pg");
    const given = opsBackupObject(ops({ type: "Backup", backup: { backupPolicyName: "p", backupMethod: "archive-wal", deletionPolicy: "Retain", retentionPeriod: "7d", parentBackupName: "full" } }), CLUSTER, "pg-basebackup");
    assert.deepEqual(given.spec, { backupPolicyName: "p", backupMethod: "archive-wal", deletionPolicy: "Retain", retentionPeriod: "7d", parentBackupName: "full" });
    assert.equal(backupSchema.safeParse(given).success, true);
  });

  it("refuses a retentionPeriod KubeBlocks would not read, at the schema", () => {
    assert.equal(opsRequestSchema.safeParse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "o" }, spec: { clusterName: "pg", type: "Backup", backup: { retentionPeriod: "7 days" } } }).success, false);
  });
});

describe("Restore OpsRequest: the cluster it creates", () => {
  it("reads restorePointInTime in RFC 3339 and in KubeBlocks' layout, and says how to write it otherwise", () => {
    assert.equal(parseRestorePointInTime("2026-12-06T22:50:07Z"), "2026-12-06T22:50:07.000Z");
    assert.equal(parseRestorePointInTime("Dec 06,2026 23:50:07 UTC+0100"), "2026-12-06T22:50:07.000Z");
    assert.equal(parseRestorePointInTime("Jan 2,2025 15:04:05 UTC-0700"), "2025-01-02T22:04:05.000Z");
    assert.throws(() => parseRestorePointInTime("yesterday"), /not an RFC 3339 time/);
    assert.throws(() => parseRestorePointInTime("Foo 02,2025 15:04:05 UTC+0000"), /names no month/);
  });

  it("copies the source's spec, names the backup, carries the point in time and the request's label", () => {
    const restore = ops({ type: "Restore", restore: { backupName: "b", restorePointInTime: "2026-12-06T22:50:07Z" } }, "restore-it");
    const request = opsRestoreRequest({ ...restore, spec: { ...restore.spec, clusterName: "pg-copy" } }) ?? assert.fail("a request");
    const made = restoredClusterFor(request, { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }], restore: { source: { name: "older" } } });
    assert.equal(made.metadata.name, "pg-copy");
    assert.equal(made.metadata.namespace, "demo");
    assert.deepEqual(made.metadata.labels, { [OPS_NAME_LABEL]: "restore-it" });
    assert.deepEqual(made.spec["restore"], { source: { apiGroup: "dataprotection.kubeblocks.io", kind: "Backup", name: "b", namespace: "demo" }, restoreTime: "2026-12-06T22:50:07.000Z" });
    assert.equal(made.spec["clusterDef"], "postgresql");
  });

  it("takes the source's spec from the backup's snapshot annotation, ignoring one that is not an object", () => {
    assert.deepEqual(clusterSnapshotOf(backup("Completed", { [CLUSTER_SNAPSHOT_ANNOTATION]: '{"clusterDef":"redis"}' })), { clusterDef: "redis" });
    assert.equal(clusterSnapshotOf(backup("Completed", { [CLUSTER_SNAPSHOT_ANNOTATION]: "[1]" })), undefined);
    assert.equal(clusterSnapshotOf(backup("Completed", { [CLUSTER_SNAPSHOT_ANNOTATION]: "{oops" })), undefined);
    assert.equal(clusterSnapshotOf(backup("Completed")), undefined);
  });

  it("restores a Completed backup, and a Running one only to a point in time", () => {
    assert.equal(unrestorableReason(backup("Completed"), false), undefined);
    assert.equal(unrestorableReason(backup("Running"), true), undefined);
    assert.match(unrestorableReason(backup("Running"), false) ?? "", /backup b is Running: only a Completed backup/);
    assert.match(unrestorableReason(backup("Failed"), true) ?? "", /is Failed/);
    assert.match(unrestorableReason(backup(undefined), false) ?? "", /is New/);
  });
});
