import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backupPolicySchema, backupSchema, clusterSchema, opsRequestSchema, SUPPORTED_OPS_TYPES, type OpsRequest } from "../../api/index.ts";
import { opsBackupCauses, opsDataProtectionReferences, opsRestoreCauses } from "./ops-backup-rules.ts";
import { opsRequestCauses } from "./ops-request-rules.ts";

const CLUSTER = clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }] } });
const POLICY = backupPolicySchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupPolicy", metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" }, spec: { backupMethods: [{ name: "pg-basebackup" }, { name: "archive-wal" }] } });

function ops(spec: Record<string, unknown>): OpsRequest {
  return opsRequestSchema.parse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "op", namespace: "demo", creationTimestamp: "2026-12-06T22:50:07Z" }, spec: { clusterName: "pg", ...spec } });
}

describe("admission of a Backup OpsRequest", () => {
  it("is a supported type, not cancellable (as in KubeBlocks)", () => {
    assert.ok(SUPPORTED_OPS_TYPES.includes("Backup") && SUPPORTED_OPS_TYPES.includes("Restore"));
    assert.deepEqual(opsRequestCauses(ops({ type: "Backup" }), CLUSTER), []);
    const [cause] = opsRequestCauses(ops({ type: "Backup", cancel: true }), CLUSTER);
    assert.equal(cause?.field, "spec.cancel");
  });

  it("accepts the defaults and a method of the policy", () => {
    assert.deepEqual(opsBackupCauses(ops({ type: "Backup" }), CLUSTER, POLICY, undefined), []);
    assert.deepEqual(opsBackupCauses(ops({ type: "Backup", backup: { backupMethod: "archive-wal" } }), CLUSTER, POLICY, undefined), []);
  });

  it("names spec.backup.backupPolicyName when the policy is missing, with the default's name", () => {
    const [cause] = opsBackupCauses(ops({ type: "Backup" }), CLUSTER, undefined, undefined);
    assert.equal(cause?.field, "spec.backup.backupPolicyName");
    assert.match(cause.message, /backuppolicy demo\/pg-postgresql-backup-policy: cluster pg has no default backup policy/);
  });

  it("names spec.backup.backupMethod when the policy has no such method, listing those it has", () => {
    const [cause] = opsBackupCauses(ops({ type: "Backup", backup: { backupMethod: "xtrabackup" } }), CLUSTER, POLICY, undefined);
    assert.equal(cause?.field, "spec.backup.backupMethod");
    assert.match(cause.message, /has methods: pg-basebackup, archive-wal/);
  });

  it("refuses a continuous method, which never completes", () => {
    const [cause] = opsBackupCauses(ops({ type: "Backup", backup: { backupMethod: "archive-wal" } }), CLUSTER, POLICY, undefined, (method) => method === "archive-wal");
    assert.equal(cause?.field, "spec.backup.backupMethod");
    assert.match(cause.message, /a continuous method never completes/);
  });

  it("names spec.backup.backupName when a backup of that name exists", () => {
    const taken = backupSchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "nightly", namespace: "demo" }, spec: { backupPolicyName: "p", backupMethod: "m" } });
    const [cause] = opsBackupCauses(ops({ type: "Backup", backup: { backupName: "nightly" } }), CLUSTER, POLICY, taken);
    assert.equal(cause?.field, "spec.backup.backupName");
    assert.equal(cause.reason, "FieldValueDuplicate");
  });

  it("reads the parent backup on the requester's behalf, naming spec.backup.parentBackupName", () => {
    const [reference] = opsDataProtectionReferences(ops({ type: "Backup", backup: { parentBackupName: "full" } }));
    assert.deepEqual([reference?.kind, reference?.namespace, reference?.name, reference?.cause.field], ["Backup", "demo", "full", "spec.backup.parentBackupName"]);
    assert.deepEqual(opsDataProtectionReferences(ops({ type: "Backup" })), []);
  });
});

describe("admission of a Restore OpsRequest", () => {
  it("does not ask for the cluster to exist, and refuses one that exists naming spec.clusterName", () => {
    assert.deepEqual(opsRequestCauses(ops({ type: "Restore", restore: { backupName: "b" } }), undefined), []);
    assert.deepEqual(opsRestoreCauses(ops({ type: "Restore", restore: { backupName: "b" } }), undefined), []);
    const [cause] = opsRestoreCauses(ops({ type: "Restore", restore: { backupName: "b" } }), CLUSTER);
    assert.equal(cause?.field, "spec.clusterName");
    assert.equal(cause.reason, "FieldValueDuplicate");
    assert.match(cause.message, /cluster demo\/pg already exists; a Restore creates a new cluster/);
  });

  it("requires spec.restore, and a readable restorePointInTime", () => {
    assert.equal(opsRestoreCauses(ops({ type: "Restore" }), undefined)[0]?.field, "spec.restore");
    const [cause] = opsRestoreCauses(ops({ type: "Restore", restore: { backupName: "b", restorePointInTime: "last tuesday" } }), undefined);
    assert.equal(cause?.field, "spec.restore.restorePointInTime");
    assert.match(cause.message, /write it like 2025-01-02T15:04:05Z/);
  });

  it("refuses a restore section without its backup at the schema", () => {
    assert.equal(opsRequestSchema.safeParse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "o" }, spec: { clusterName: "x", type: "Restore", restore: {} } }).success, false);
  });

  it("reads the backup on the requester's behalf, in backupNamespace when given, naming spec.restore.backupName", () => {
    const [reference] = opsDataProtectionReferences(ops({ type: "Restore", restore: { backupName: "b", backupNamespace: "prod" } }));
    assert.deepEqual([reference?.kind, reference?.namespace, reference?.name, reference?.cause.field], ["Backup", "prod", "b", "spec.restore.backupName"]);
  });
});
