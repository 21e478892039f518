import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Backup } from "../../api/index.ts";
import { failedStatus } from "./plan.ts";
import { expirationFor, retentionAction } from "./retention.ts";

function backup(retentionPeriod: string | undefined, status?: Backup["status"]): Backup {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: "b", namespace: "demo" },
    spec: { backupPolicyName: "p", backupMethod: "pg-basebackup", deletionPolicy: "Delete", ...(retentionPeriod === undefined ? {} : { retentionPeriod }) },
    ...(status === undefined ? {} : { status }),
  };
}

describe("retention of finished backups", () => {
  it("a backup expires at its start plus its retentionPeriod; without one it is kept", () => {
    assert.deepEqual(expirationFor(backup("2m"), "2025-01-01T00:00:00.000Z"), { expiration: "2025-01-01T00:02:00.000Z" });
    assert.deepEqual(expirationFor(backup("1y2mo3w4d5h6m"), "2025-01-01T00:00:00.000Z"), { expiration: new Date(Date.parse("2025-01-01T00:00:00Z") + (365 + 60 + 21 + 4) * 86_400_000 + 5 * 3_600_000 + 6 * 60_000).toISOString() });
    assert.deepEqual(expirationFor(backup(undefined), "2025-01-01T00:00:00.000Z"), {});
    assert.deepEqual(retentionAction(backup(undefined, { phase: "Completed" }), Date.now(), 3_600_000), { action: "keep" });
  });

  it("a failed backup expires too, so failed scheduled backups do not pile up", () => {
    const failed = failedStatus(backup("7d", { phase: "Running", startTimestamp: "2025-01-01T00:00:00.000Z" }), "boom", "2025-01-01T00:00:05.000Z");
    assert.equal(failed.expiration, "2025-01-08T00:00:00.000Z");
  });

  it("deleted once expired; before that, looked at again at expiry, at most maxWaitMs away", () => {
    const expiring = backup("2m", { phase: "Completed", expiration: "2025-01-01T00:02:00.000Z" });
    assert.deepEqual(retentionAction(expiring, Date.parse("2025-01-01T00:02:00Z"), 3_600_000), { action: "delete" });
    assert.deepEqual(retentionAction(expiring, Date.parse("2025-01-01T00:01:00Z"), 3_600_000), { action: "recheck", afterMs: 60_000 });
    assert.deepEqual(retentionAction(expiring, Date.parse("2025-01-01T00:01:00Z"), 10_000), { action: "recheck", afterMs: 10_000 });
    assert.deepEqual(retentionAction(expiring, Date.parse("2025-01-01T00:01:59.900Z"), 10_000), { action: "recheck", afterMs: 1000 });
  });
});
