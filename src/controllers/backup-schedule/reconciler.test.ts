/**
 * The schedule controller against a real store with an injected clock: backups at their slots, never twice for one
 * slot (also with a new controller, as after a restart), one backup for many slots missed, slots skipped while a
 * backup runs, and a schedule whose policy is missing fails with a reason.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backup, BackupSchedule, Resource } from "../../api/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { BackupScheduleReconciler } from "./reconciler.ts";

const MINUTE = 60_000;

describe("backup schedule controller", () => {
  let dir: string;
  let store: Store;
  let clock = 0;
  /** The first whole minute after the schedule was created. */
  let firstSlot = 0;
  const events: { reason: string; message: string }[] = [];
  const recorder: EventRecorder = { record: (_object, _type, reason, message) => Promise.resolve(void events.push({ reason, message })) };
  const controller = (): BackupScheduleReconciler => new BackupScheduleReconciler({ store, events: recorder, now: () => clock });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-schedule-controller-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create<Resource>({
      apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
      kind: "BackupPolicy",
      metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" },
      spec: { target: { podSelector: { matchLabels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" }, strategy: "Any" } }, backupMethods: [{ name: "pg-basebackup" }] },
    });
    const created = await store.create<BackupSchedule>({
      apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
      kind: "BackupSchedule",
      metadata: { name: "pg-schedule", namespace: "demo" },
      spec: { backupPolicyName: "pg-postgresql-backup-policy", schedules: [{ backupMethod: "pg-basebackup", enabled: true, cronExpression: "*/1 * * * *", retentionPeriod: "2m" }] },
    });
    firstSlot = Math.floor(Date.parse(created.metadata.creationTimestamp ?? "") / MINUTE) * MINUTE + MINUTE;
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const backups = async (): Promise<Backup[]> => (await store.list<Backup>("Backup", { namespace: "demo" })).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const schedule = async (): Promise<BackupSchedule | undefined> => store.get<BackupSchedule>({ kind: "BackupSchedule", namespace: "demo", name: "pg-schedule" });
  const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const finish = async (backup: Backup): Promise<void> => {
    await store.updateStatus<Backup>({ ...backup, status: { phase: "Completed", completionTimestamp: new Date(clock).toISOString() } });
  };

  it("before its first slot nothing is created, and it wakes for the slot", async () => {
    clock = firstSlot - 20_000;
    const result = await controller().reconcile("demo/pg-schedule");
    assert.deepEqual(await backups(), []);
    assert.equal(result?.requeueAfterMs, 20_000);
    assert.equal((await schedule())?.status?.phase, "Available");
  });

  it("at the slot one backup is created, named and labelled for it; reconciling again (or after a restart) makes no second", async () => {
    clock = firstSlot + 1500;
    const result = await controller().reconcile("demo/pg-schedule");
    await controller().reconcile("demo/pg-schedule");
    await controller().reconcile("demo/pg-schedule");
    const made = await backups();
    assert.deepEqual(made.map((b) => b.metadata.name), [`pg-${stamp(firstSlot)}`]);
    assert.equal(made[0]?.metadata.labels?.["dataprotection.kubeblocks.io/backup-schedule"], "pg-schedule");
    assert.equal(made[0].metadata.labels["dataprotection.kubeblocks.io/autobackup"], "true");
    assert.equal(made[0].spec.retentionPeriod, "2m");
    assert.equal((await schedule())?.status?.schedules?.["pg-basebackup"]?.lastScheduleTime, new Date(firstSlot).toISOString());
    assert.equal(result?.requeueAfterMs, MINUTE - 1500);
    assert.ok(events.some((e) => e.reason === "BackupCreated"));
  });

  it("a create that landed before the status was written is not repeated", async () => {
    const live = (await schedule())!;
    await store.updateStatus<BackupSchedule>({ ...live, status: { ...live.status, schedules: {} } });
    await controller().reconcile("demo/pg-schedule");
    assert.equal((await backups()).length, 1);
    assert.equal((await schedule())?.status?.schedules?.["pg-basebackup"]?.lastScheduleTime, new Date(firstSlot).toISOString());
  });

  it("while that backup has not finished, the next slot is skipped, with an event", async () => {
    clock = firstSlot + MINUTE + 1000;
    await controller().reconcile("demo/pg-schedule");
    assert.equal((await backups()).length, 1);
    assert.match(events.findLast((e) => e.reason === "BackupSkipped")?.message ?? "", /still running/);
    assert.equal((await schedule())?.status?.schedules?.["pg-basebackup"]?.lastScheduleTime, new Date(firstSlot + MINUTE).toISOString());
  });

  it("down for many slots: one backup, of the latest slot; lastSuccessfulTime follows the completed backup", async () => {
    await finish((await backups())[0]!);
    clock = firstSlot + 7 * MINUTE + 5000;
    await controller().reconcile("demo/pg-schedule");
    assert.deepEqual((await backups()).map((b) => b.metadata.name), [`pg-${stamp(firstSlot)}`, `pg-${stamp(firstSlot + 7 * MINUTE)}`]);
    const status = (await schedule())?.status?.schedules?.["pg-basebackup"];
    assert.equal(status?.lastScheduleTime, new Date(firstSlot + 7 * MINUTE).toISOString());
    assert.equal(status.lastSuccessfulTime, new Date(firstSlot + MINUTE + 1000).toISOString());
    assert.equal(status.phase, "Running");
  });

  it("a disabled entry creates nothing", async () => {
    await finish((await backups())[1]!);
    const live = (await schedule())!;
    await store.update<BackupSchedule>({ ...live, spec: { ...live.spec, schedules: live.spec.schedules.map((s) => ({ ...s, enabled: false })) } });
    clock = firstSlot + 9 * MINUTE + 5000;
    await controller().reconcile("demo/pg-schedule");
    assert.equal((await backups()).length, 2);
    assert.equal((await schedule())?.status?.schedules?.["pg-basebackup"]?.phase, undefined);
  });

  it("a schedule whose policy is missing is Failed with the reason", async () => {
    const live = (await schedule())!;
    await store.update<BackupSchedule>({ ...live, spec: { ...live.spec, backupPolicyName: "gone" } });
    const result = await controller().reconcile("demo/pg-schedule");
    const failed = await schedule();
    assert.equal(failed?.status?.phase, "Failed");
    assert.match(failed.status.failureReason ?? "", /BackupPolicy gone not found in namespace demo/);
    assert.equal(result?.requeueAfterMs, 30_000);
  });
});
