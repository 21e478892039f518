/** Cluster.spec.backup kept as the cluster's BackupSchedule, against a real store. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackupPolicy, BackupSchedule, Cluster, Resource } from "../../api/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { ClusterBackupReconciler } from "./cluster-backup.ts";

describe("Cluster.spec.backup", () => {
  let dir: string;
  let store: Store;
  let reconciler: ClusterBackupReconciler;
  const events: { reason: string; message: string }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-cluster-backup-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    const recorder: EventRecorder = { record: (_object, _type, reason, message) => Promise.resolve(void events.push({ reason, message })) };
    reconciler = new ClusterBackupReconciler({ store, events: recorder });
    await store.create<Resource>({
      apiVersion: "apps.kubeblocks.io/v1",
      kind: "Cluster",
      metadata: { name: "pg", namespace: "demo" },
      spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 1 }], backup: { enabled: true, method: "pg-basebackup", cronExpression: "0 3 * * *", retentionPeriod: "14d", repoName: "s3-repo" } },
    });
    await store.create<Resource>({
      apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
      kind: "BackupPolicy",
      metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" },
      spec: { backupMethods: [{ name: "pg-basebackup" }] },
    });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const schedule = (): Promise<BackupSchedule | undefined> => store.get<BackupSchedule>({ kind: "BackupSchedule", namespace: "demo", name: "pg-postgresql-backup-schedule" });
  const cluster = async (): Promise<Cluster> => (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" }))!;

  it("creates <cluster>-<component>-backup-schedule owned by the cluster, and points the policy at repoName", async () => {
    await reconciler.reconcile("demo/pg");
    const created = await schedule();
    assert.deepEqual(created?.spec, { backupPolicyName: "pg-postgresql-backup-policy", schedules: [{ backupMethod: "pg-basebackup", enabled: true, cronExpression: "0 3 * * *", retentionPeriod: "14d" }] });
    assert.equal(created.metadata.ownerReferences?.[0]?.name, "pg");
    const policy = await store.get<BackupPolicy>({ kind: "BackupPolicy", namespace: "demo", name: "pg-postgresql-backup-policy" });
    assert.equal(policy?.spec.backupRepoName, "s3-repo");
  });

  it("follows changes to spec.backup, with KubeBlocks' defaults", async () => {
    const live = await cluster();
    await store.update<Cluster>({ ...live, spec: { ...live.spec, backup: { method: "pg-basebackup" } } });
    await reconciler.reconcile("demo/pg");
    assert.deepEqual((await schedule())?.spec.schedules, [{ backupMethod: "pg-basebackup", enabled: false, cronExpression: "0 18 * * *", retentionPeriod: "7d" }]);
  });

  it("an invalid spec.backup changes nothing and says why", async () => {
    const live = await cluster();
    await store.update<Cluster>({ ...live, spec: { ...live.spec, backup: { enabled: true, method: "pg-basebackup", cronExpression: "0 25 * * *" } } });
    await reconciler.reconcile("demo/pg");
    assert.equal((await schedule())?.spec.schedules[0]?.enabled, false);
    assert.match(events.at(-1)?.message ?? "", /spec.backup is not applied: cronExpression: .*hour field "25": 25 is outside 0-23/);
  });
});
