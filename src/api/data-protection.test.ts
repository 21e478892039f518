import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  backupPolicySchema,
  backupRepoSchema,
  backupScheduleSchema,
  backupSchema,
  clusterSchema,
  expirationOf,
  formatGoDuration,
  parseRestoreAnnotation,
  restoreSourceFor,
  retentionPeriodMs,
} from "./index.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("retention periods", () => {
  it("read KubeBlocks' units, alone and summed in order", () => {
    assert.equal(retentionPeriodMs("7d"), 7 * DAY);
    assert.equal(retentionPeriodMs("12h"), 12 * HOUR);
    assert.equal(retentionPeriodMs("30m"), 30 * 60_000);
    assert.equal(retentionPeriodMs("6mo"), 180 * DAY);
    assert.equal(retentionPeriodMs("1y2mo3w4d5h6m"), 365 * DAY + 60 * DAY + 21 * DAY + 4 * DAY + 5 * HOUR + 6 * 60_000);
  });

  it("refuse what is not one: empty, zero, unknown units, wrong order", () => {
    for (const text of ["", "0d", "7", "7s", "1d1y", "d", "1 d", "-1d"]) assert.equal(retentionPeriodMs(text), undefined, text);
  });

  it("give an expiration after the start, or none", () => {
    assert.equal(expirationOf("2025-01-01T00:00:00.000Z", "1d"), "2025-01-02T00:00:00.000Z");
    assert.equal(expirationOf("2025-01-01T00:00:00.000Z", undefined), undefined);
  });

  it("durations print as Go does", () => {
    assert.equal(formatGoDuration(500), "0.5s");
    assert.equal(formatGoDuration(62_000), "1m2s");
    assert.equal(formatGoDuration(3_723_500), "1h2m3.5s");
  });
});

describe("data-protection schemas", () => {
  it("accept the KubeBlocks examples' shapes and fill the defaults", () => {
    const backup = backupSchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "b", namespace: "demo" }, spec: { backupPolicyName: "p", backupMethod: "pg-basebackup" } });
    assert.equal(backup.spec.deletionPolicy, "Delete");
    const repo = backupRepoSchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupRepo", metadata: { name: "r" }, spec: { storageProviderRef: "s3", config: { bucket: "b" }, credential: { name: "c", namespace: "kb-system" } } });
    assert.equal(repo.spec.accessMethod, "Tool");
    assert.equal(repo.spec.pvReclaimPolicy, "Retain");
  });

  it("refuse a bad retention period, a policy without methods and a six-field cron", () => {
    const base = { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", metadata: { name: "x", namespace: "demo" } };
    assert.equal(backupSchema.safeParse({ ...base, kind: "Backup", spec: { backupPolicyName: "p", backupMethod: "m", retentionPeriod: "7 days" } }).success, false);
    assert.equal(backupPolicySchema.safeParse({ ...base, kind: "BackupPolicy", spec: { backupMethods: [] } }).success, false);
    const schedule = (cron: string) => backupScheduleSchema.safeParse({ ...base, kind: "BackupSchedule", spec: { backupPolicyName: "p", schedules: [{ backupMethod: "m", cronExpression: cron }] } }).success;
    assert.equal(schedule("0 18 * * *"), true);
    assert.equal(schedule("*/5 * * * * *"), false);
  });
});

describe("restoring a cluster from a backup", () => {
  const cluster = (extra: Record<string, unknown>, annotations?: Record<string, string>) =>
    clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "c", namespace: "demo", ...(annotations ? { annotations } : {}) }, spec: { clusterDef: "redis", componentSpecs: [{ name: "redis" }, { name: "redis-sentinel" }], ...extra } });

  it("spec.restore (the example's form) restores the first component, in the cluster's namespace by default", () => {
    const restored = cluster({ restore: { source: { apiGroup: "dataprotection.kubeblocks.io", kind: "Backup", name: "b1" } } });
    assert.deepEqual(restoreSourceFor(restored, "redis"), { backupName: "b1", backupNamespace: "demo" });
    assert.equal(restoreSourceFor(restored, "redis-sentinel"), undefined);
  });

  it("the kubeblocks.io/restore-from-backup annotation names a backup per component", () => {
    const restored = cluster({}, { "kubeblocks.io/restore-from-backup": JSON.stringify({ "redis-sentinel": { name: "b2", namespace: "other" } }) });
    assert.deepEqual(restoreSourceFor(restored, "redis-sentinel"), { backupName: "b2", backupNamespace: "other" });
    assert.equal(restoreSourceFor(restored, "redis"), undefined);
    assert.equal(restoreSourceFor(cluster({}), "redis"), undefined);
  });

  it("a malformed annotation says what it should look like", () => {
    assert.throws(() => parseRestoreAnnotation("{not json"), /must be JSON such as/);
    assert.throws(() => parseRestoreAnnotation(JSON.stringify({ redis: "b" })), /map component names/);
  });
});
