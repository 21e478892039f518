import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Backup, BackupPolicy, Instance } from "../../api/index.ts";
import { chooseTarget, completedStatus, failedStatus, isExpired } from "./plan.ts";

const POLICY: BackupPolicy = {
  apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
  kind: "BackupPolicy",
  metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" },
  spec: {
    target: { podSelector: { matchLabels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" }, strategy: "Any" } },
    backupMethods: [{ name: "pg-basebackup" }],
  },
};

function backup(method: string, extra: Partial<Backup["spec"]> = {}, status?: Backup["status"]): Backup {
  return { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "b", namespace: "demo" }, spec: { backupPolicyName: POLICY.metadata.name, backupMethod: method, deletionPolicy: "Delete", ...extra }, ...(status ? { status } : {}) };
}

const READY: Instance = {
  apiVersion: "holdfast.io/v1alpha1",
  kind: "Instance",
  metadata: { name: "pg-postgresql-0", namespace: "demo", labels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" } },
  spec: { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, role: "primary", parameters: {}, deleteData: true },
  status: { ready: true, role: "primary" },
};

describe("choosing what to back up", () => {
  it("finds the cluster, component and a ready instance from the policy", () => {
    const choice = chooseTarget(backup("pg-basebackup"), POLICY, [READY]);
    assert.ok(!("failure" in choice));
    assert.deepEqual([choice.cluster, choice.component, choice.instance.metadata.name], ["pg", "postgresql", "pg-postgresql-0"]);
  });

  it("fails with a reason for a method the policy lacks, or no ready instance", () => {
    assert.match((chooseTarget(backup("pgdump"), POLICY, [READY]) as { failure: string }).failure, /pgdump is not in BackupPolicy pg-postgresql-backup-policy \(it has: pg-basebackup\)/);
    assert.match((chooseTarget(backup("pg-basebackup"), POLICY, [{ ...READY, status: { ready: false } }]) as { failure: string }).failure, /no ready instance of cluster pg component postgresql/);
  });
});

describe("status of a finished backup", () => {
  const started = "2025-01-01T00:00:00.000Z";
  const summary = { manifestSha256: "a".repeat(64), plaintextBytes: 1000, storedBytes: 400, completedAt: "2025-01-01T00:00:09.000Z" };

  it("Completed records sizes, digest, duration, time range and the expiration of its retention", () => {
    const status = completedStatus(backup("pg-basebackup", { retentionPeriod: "7d" }, { phase: "Running", startTimestamp: started, failureReason: "old" }), summary, "2025-01-01T00:00:10.000Z");
    assert.equal(status.phase, "Completed");
    assert.equal(status.totalSize, "1000");
    assert.equal(status.storedSize, "400");
    assert.equal(status.manifestSha256, summary.manifestSha256);
    assert.equal(status.duration, "10s");
    assert.deepEqual(status.timeRange, { start: started, end: summary.completedAt });
    assert.equal(status.expiration, "2025-01-08T00:00:00.000Z");
    assert.equal(status.failureReason, undefined);
  });

  it("Failed records the reason; expiry is judged against the clock", () => {
    const failed = failedStatus(backup("pg-basebackup", {}, { phase: "Running", startTimestamp: started }), "boom", "2025-01-01T00:01:00.000Z");
    assert.deepEqual([failed.phase, failed.failureReason, failed.duration], ["Failed", "boom", "1m0s"]);
    const expiring = backup("pg-basebackup", {}, { phase: "Completed", expiration: "2025-01-02T00:00:00.000Z" });
    assert.equal(isExpired(expiring, Date.parse("2025-01-01T23:59:59Z")), false);
    assert.equal(isExpired(expiring, Date.parse("2025-01-02T00:00:00Z")), true);
  });
});
