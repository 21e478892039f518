import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backupScheduleSchema, parseCronExpression, type BackupPolicy } from "../../api/index.ts";
import { decideEntry, latestSlot, scheduledBackup, scheduleProblem, slotStamp } from "./plan.ts";

const t = (iso: string): number => Date.parse(iso);
const EVERY_MINUTE = parseCronExpression("*/1 * * * *");

const POLICY: BackupPolicy = {
  apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
  kind: "BackupPolicy",
  metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" },
  spec: {
    target: { podSelector: { matchLabels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" }, strategy: "Any" } },
    backupMethods: [{ name: "pg-basebackup" }, { name: "archive-wal" }],
  },
};

function schedule(entries: { backupMethod: string; cronExpression: string; name?: string }[]) {
  return backupScheduleSchema.parse({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupSchedule", metadata: { name: "pg-schedule", namespace: "demo" }, spec: { backupPolicyName: POLICY.metadata.name, schedules: entries.map((e) => ({ enabled: true, retentionPeriod: "2m", ...e })) } });
}

describe("the latest slot due", () => {
  it("none before the first slot after the anchor; the slot itself once it has come", () => {
    assert.equal(latestSlot(EVERY_MINUTE, t("2025-01-01T00:00:10Z"), t("2025-01-01T00:00:59.999Z")), undefined);
    assert.equal(latestSlot(EVERY_MINUTE, t("2025-01-01T00:00:10Z"), t("2025-01-01T00:01:00Z")), t("2025-01-01T00:01:00Z"));
    assert.equal(latestSlot(EVERY_MINUTE, t("2025-01-01T00:01:00Z"), t("2025-01-01T00:01:30Z")), undefined, "the anchor's own slot is done");
  });

  it("a control plane down for days runs only the latest slot", () => {
    assert.equal(latestSlot(EVERY_MINUTE, t("2025-01-01T00:00:00Z"), t("2025-01-04T07:42:31Z")), t("2025-01-04T07:42:00Z"));
    const yearly = parseCronExpression("@yearly");
    assert.equal(latestSlot(yearly, t("2020-06-01T00:00:00Z"), t("2025-03-01T00:00:00Z")), t("2025-01-01T00:00:00Z"));
    assert.equal(latestSlot(yearly, t("2025-06-01T00:00:00Z"), t("2025-12-31T23:59:00Z")), undefined);
  });
});

describe("deciding about a schedule entry", () => {
  const base = { cron: EVERY_MINUTE, anchor: t("2025-01-01T00:00:10Z") };

  it("waits until the next slot, and says when that is", () => {
    assert.deepEqual(decideEntry({ ...base, now: t("2025-01-01T00:00:30Z") }), { action: "wait", nextAt: t("2025-01-01T00:01:00Z") });
  });

  it("creates the due slot's backup", () => {
    assert.deepEqual(decideEntry({ ...base, now: t("2025-01-01T00:01:02Z") }), { action: "create", slot: t("2025-01-01T00:01:00Z"), nextAt: t("2025-01-01T00:02:00Z") });
  });

  it("skips a slot while a backup of the same policy and method runs (KubeBlocks' Forbid)", () => {
    const decision = decideEntry({ ...base, now: t("2025-01-01T00:01:02Z"), running: "pg-20250101000000" });
    assert.ok(decision.action === "skip");
    assert.match(decision.reason, /backup pg-20250101000000 of the same policy and method is still running/);
  });

  it("skips a slot found later than startingDeadlineMinutes", () => {
    const late = decideEntry({ ...base, now: t("2025-01-01T00:06:30Z"), startingDeadlineMinutes: 0 });
    assert.deepEqual(late.action === "skip" ? [late.slot, late.reason] : [], [t("2025-01-01T00:06:00Z"), "it is 1 minutes late, past startingDeadlineMinutes 0"]);
    assert.equal(decideEntry({ ...base, now: t("2025-01-01T00:06:30Z"), startingDeadlineMinutes: 1 }).action, "create");
  });
});

describe("the backup a slot creates", () => {
  it("is named <cluster>-<UTC stamp>, labelled as KubeBlocks labels scheduled backups, with the entry's retention", () => {
    const one = schedule([{ backupMethod: "pg-basebackup", cronExpression: "*/1 * * * *" }]);
    const backup = scheduledBackup(one, POLICY, one.spec.schedules[0]!, t("2025-03-04T05:06:00Z"));
    assert.equal(slotStamp(t("2025-03-04T05:06:00Z")), "20250304050600");
    assert.equal(backup.metadata.name, "pg-20250304050600");
    assert.equal(backup.metadata.namespace, "demo");
    assert.deepEqual(backup.metadata.labels, {
      "dataprotection.kubeblocks.io/autobackup": "true",
      "dataprotection.kubeblocks.io/backup-schedule": "pg-schedule",
      "dataprotection.kubeblocks.io/backup-policy": "pg-postgresql-backup-policy",
      "dataprotection.kubeblocks.io/backup-method": "pg-basebackup",
      "app.kubernetes.io/instance": "pg",
      "apps.kubeblocks.io/component-name": "postgresql",
    });
    assert.deepEqual(backup.spec, { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete", retentionPeriod: "2m" });
  });

  it("carries the entry's name when a schedule has several, so two entries of one minute do not collide", () => {
    const two = schedule([{ backupMethod: "pg-basebackup", cronExpression: "0 * * * *" }, { backupMethod: "archive-wal", cronExpression: "0 * * * *", name: "wal" }]);
    const names = two.spec.schedules.map((entry) => scheduledBackup(two, POLICY, entry, t("2025-03-04T05:00:00Z")).metadata.name);
    assert.deepEqual(names, ["pg-pg-basebackup-20250304050000", "pg-wal-20250304050000"]);
  });

  it("a schedule naming a missing policy or method says which", () => {
    const one = schedule([{ backupMethod: "pgdump", cronExpression: "0 * * * *" }]);
    assert.match(scheduleProblem(one, undefined) ?? "", /BackupPolicy pg-postgresql-backup-policy not found in namespace demo/);
    assert.match(scheduleProblem(one, POLICY) ?? "", /backup method pgdump is not in BackupPolicy pg-postgresql-backup-policy \(it has: pg-basebackup, archive-wal\)/);
  });
});
