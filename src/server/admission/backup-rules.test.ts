import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backupPolicySchema, backupRepoSchema, backupSchema, backupScheduleSchema, clusterSchema, type Backup } from "../../api/index.ts";
import { builtinEngines } from "../../engines/index.ts";
import { backupCauses, backupPolicyCauses, backupRepoCauses, backupScheduleCauses, clusterRestoreCauses } from "./backup-rules.ts";

const DP = "dataprotection.kubeblocks.io/v1alpha1";
const engines = { list: () => builtinEngines(), find: (name: string) => builtinEngines().find((e) => e.name === name) };

const policy = backupPolicySchema.parse({
  apiVersion: DP,
  kind: "BackupPolicy",
  metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" },
  spec: { target: { podSelector: { matchLabels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" } } }, backupMethods: [{ name: "pg-basebackup" }] },
});
const pgCluster = clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }] } });

function backup(spec: Record<string, unknown>): Backup {
  return backupSchema.parse({ apiVersion: DP, kind: "Backup", metadata: { name: "b", namespace: "demo" }, spec: { backupPolicyName: policy.metadata.name, backupMethod: "pg-basebackup", ...spec } });
}

describe("BackupRepo rules", () => {
  const repo = (spec: Record<string, unknown>) => backupRepoSchema.parse({ apiVersion: DP, kind: "BackupRepo", metadata: { name: "r" }, spec });
  it("accept a local directory and a complete S3 repository", () => {
    assert.deepEqual(backupRepoCauses(repo({ storageProviderRef: "local", config: { path: "/var/backups" } })), []);
    assert.deepEqual(backupRepoCauses(repo({ storageProviderRef: "s3", config: { bucket: "b", endpoint: "http://127.0.0.1:9000" }, credential: { name: "c", namespace: "default" } })), []);
  });
  it("name the missing or unsupported field", () => {
    assert.deepEqual(backupRepoCauses(repo({ storageProviderRef: "local", config: { path: "relative" } })).map((c) => c.field), ["spec.config.path"]);
    assert.deepEqual(backupRepoCauses(repo({ storageProviderRef: "oss" })).map((c) => c.field), ["spec.storageProviderRef"]);
    assert.deepEqual(backupRepoCauses(repo({ storageProviderRef: "minio", config: { bucket: "b" } })).map((c) => c.field), ["spec.config.endpoint", "spec.credential"]);
  });
});

describe("Backup rules", () => {
  it("need an existing policy that has the method", () => {
    assert.deepEqual(backupCauses(backup({}), policy), []);
    assert.match(backupCauses(backup({}), undefined)[0]?.message ?? "", /no BackupPolicy of that name in namespace demo/);
    assert.deepEqual(backupCauses(backup({ backupMethod: "volume-snapshot" }), policy).map((c) => c.field), ["spec.backupMethod"]);
  });
  it("keep the spec immutable except deletionPolicy and retentionPeriod", () => {
    const old = backup({});
    assert.deepEqual(backupCauses(backup({ deletionPolicy: "Retain", retentionPeriod: "7d" }), policy, old), []);
    assert.deepEqual(backupCauses(backup({ backupMethod: "other" }), policy, old).map((c) => c.field), ["spec"]);
  });
});

describe("BackupPolicy and BackupSchedule rules", () => {
  it("a policy may only name methods the component's engine has", () => {
    assert.deepEqual(backupPolicyCauses(policy, pgCluster, engines), []);
    const wrong = backupPolicySchema.parse({ ...policy, spec: { ...policy.spec, backupMethods: [{ name: "datafile" }] } });
    assert.match(backupPolicyCauses(wrong, pgCluster, engines)[0]?.message ?? "", /postgresql supports: pg-basebackup/);
  });
  it("a schedule needs its policy and the methods it schedules", () => {
    const schedule = backupScheduleSchema.parse({ apiVersion: DP, kind: "BackupSchedule", metadata: { name: "s", namespace: "demo" }, spec: { backupPolicyName: policy.metadata.name, schedules: [{ backupMethod: "pg-basebackup", cronExpression: "0 * * * *" }, { backupMethod: "archive-wal", cronExpression: "*/5 * * * *" }] } });
    assert.deepEqual(backupScheduleCauses(schedule, policy).map((c) => c.field), ["spec.schedules[1].backupMethod"]);
    assert.deepEqual(backupScheduleCauses(schedule, undefined).map((c) => c.field), ["spec.backupPolicyName"]);
  });
});

describe("restore rules", () => {
  const restoring = clusterSchema.parse({ ...pgCluster, metadata: { name: "pg2", namespace: "demo" }, spec: { ...pgCluster.spec, restore: { source: { name: "b" } } } });
  const completed = (engine: string): Backup => ({ ...backup({}), status: { phase: "Completed", source: { cluster: "pg", component: "postgresql", instance: "pg-postgresql-0", engine, version: "15.18" } } });

  it("accept a Completed backup of the same engine", () => {
    assert.deepEqual(clusterRestoreCauses(restoring, () => completed("postgresql"), engines), []);
  });
  it("refuse a missing, unfinished or other engine's backup, and a malformed annotation", () => {
    assert.match(clusterRestoreCauses(restoring, () => undefined, engines)[0]?.message ?? "", /Not found: backup demo\/b/);
    assert.match(clusterRestoreCauses(restoring, () => ({ ...backup({}), status: { phase: "Running" } }), engines)[0]?.message ?? "", /is Running: only a Completed backup/);
    assert.match(clusterRestoreCauses(restoring, () => completed("redis"), engines)[0]?.message ?? "", /is of redis, but component postgresql runs postgresql/);
    const annotated = clusterSchema.parse({ ...pgCluster, metadata: { name: "pg3", namespace: "demo", annotations: { "kubeblocks.io/restore-from-backup": "nope" } } });
    assert.deepEqual(clusterRestoreCauses(annotated, () => undefined, engines).map((c) => c.field), ["metadata.annotations[kubeblocks.io/restore-from-backup]"]);
  });
});
