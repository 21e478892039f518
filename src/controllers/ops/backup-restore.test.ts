/**
 * Backup and Restore OpsRequests through the OpsRequest controller against a real store (ADR 0051). The Backup's and
 * the restored Cluster's status are written here as their own controllers write them; test/e2e/ops-backup-restore.test.ts
 * runs the whole path with a real server and psql.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLUSTER_SNAPSHOT_ANNOTATION, OPS_NAME_LABEL, type Backup, type BackupPolicy, type Cluster, type OpsRequest } from "../../api/index.ts";
import { createPostgresqlEngine } from "../../engines/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { OpsRequestReconciler } from "./reconciler.ts";

const engineList = [createPostgresqlEngine()];
const engines = { list: () => engineList, find: (name: string) => engineList.find((e) => e.name === name), versions: () => Promise.resolve([]) };
const SPEC: Cluster["spec"] = { terminationPolicy: "Delete", clusterDef: "postgresql", topology: "standalone", componentSpecs: [{ name: "postgresql", replicas: 1 }] };

function opsRequest(name: string, spec: Partial<OpsRequest["spec"]> & Pick<OpsRequest["spec"], "type">): OpsRequest {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: "demo" }, spec: { clusterName: "pg", ...spec } };
}

describe("OpsRequest controller: Backup and Restore", () => {
  let dir: string;
  let store: Store;
  const events: { reason: string; message: string }[] = [];
  const recorder: EventRecorder = { record: (_object, _type, reason, message) => Promise.resolve(void events.push({ reason, message })) };
  const reconcile = (name: string): Promise<unknown> => new OpsRequestReconciler({ store, events: recorder, engines }).reconcile(`demo/${name}`);
  const ops = async (name: string): Promise<OpsRequest> => (await store.get<OpsRequest>({ kind: "OpsRequest", namespace: "demo", name })) ?? assert.fail(`opsrequest ${name}`);
  const backup = (name: string): Promise<Backup | undefined> => store.get<Backup>({ kind: "Backup", namespace: "demo", name });

  async function setBackupStatus(name: string, status: Backup["status"]): Promise<void> {
    const live = (await backup(name)) ?? assert.fail(`backup ${name}`);
    await store.updateStatus<Backup>({ ...live, status: { ...live.status, ...status } });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-ops-backup-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create<Cluster>({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: SPEC });
    await store.create<BackupPolicy>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupPolicy", metadata: { name: "pg-postgresql-backup-policy", namespace: "demo" }, spec: { backupMethods: [{ name: "pg-basebackup" }, { name: "archive-wal" }] } });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a Backup creates its Backup with the defaults, follows it 0/1 → 1/1, and succeeds once it is Completed", async () => {
    await store.create(opsRequest("backup-1", { type: "Backup" }));
    await reconcile("backup-1");
    const started = await ops("backup-1");
    assert.equal(started.status?.phase, "Running");
    const name = `backup-1-${(started.metadata.creationTimestamp ?? "").replace(/[-:T]/g, "").slice(0, 14)}`;
    const made = (await backup(name)) ?? assert.fail(`backup ${name} created`);
    assert.deepEqual([made.spec.backupPolicyName, made.spec.backupMethod, made.metadata.labels?.[OPS_NAME_LABEL]], ["pg-postgresql-backup-policy", "pg-basebackup", "backup-1"]);
    assert.ok(events.some((e) => e.reason === "BackupCreated" && e.message.includes(name)));

    await reconcile("backup-1");
    assert.equal((await ops("backup-1")).status?.progress, "0/1");
    assert.equal((await ops("backup-1")).status?.progressDetails?.[0]?.objectKey, `Backup/${name}`);
    await reconcile("backup-1"); // a repeat creates nothing more and does not fail
    assert.equal((await store.list<Backup>("Backup", { namespace: "demo" })).items.length, 1);

    await setBackupStatus(name, { phase: "Completed", totalSize: "1234" });
    await reconcile("backup-1");
    const done = (await ops("backup-1")).status;
    assert.deepEqual([done?.phase, done?.progress, done?.progressDetails?.[0]?.status], ["Succeed", "1/1", "Succeed"]);
    assert.match(done?.message ?? "", new RegExp(`backup ${name} Completed, 1234 bytes`));
  });

  it("a Backup fails with the Backup's reason, and one whose name is taken by another fails saying so", async () => {
    await store.create(opsRequest("backup-2", { type: "Backup", backup: { backupName: "named", backupMethod: "archive-wal", deletionPolicy: "Retain" } }));
    await reconcile("backup-2");
    assert.deepEqual([(await backup("named"))?.spec.backupMethod, (await backup("named"))?.spec.deletionPolicy], ["archive-wal", "Retain"]);
    await setBackupStatus("named", { phase: "Failed", failureReason: "the repository is full" });
    await reconcile("backup-2");
    assert.deepEqual([(await ops("backup-2")).status?.phase, (await ops("backup-2")).status?.message], ["Failed", "backup named failed: the repository is full"]);

    await store.create(opsRequest("backup-3", { type: "Backup", backup: { backupName: "named" } }));
    await reconcile("backup-3");
    assert.equal((await ops("backup-3")).status?.phase, "Failed");
    assert.match((await ops("backup-3")).status?.message ?? "", /backup named already exists and was not made by this OpsRequest/);
  });

  it("a Restore creates the new cluster from the backup's snapshot with spec.restore, and succeeds once it is Running", async () => {
    await store.create<Backup>({
      apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
      kind: "Backup",
      metadata: { name: "full", namespace: "demo", annotations: { [CLUSTER_SNAPSHOT_ANNOTATION]: JSON.stringify(SPEC) } },
      spec: { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" },
    });
    await setBackupStatus("full", { phase: "Completed" });
    await store.create(opsRequest("restore-1", { type: "Restore", clusterName: "pg-copy", restore: { backupName: "full" } }));
    await reconcile("restore-1");
    assert.equal((await ops("restore-1")).status?.phase, "Running");
    const made = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg-copy" })) ?? assert.fail("cluster pg-copy created");
    assert.deepEqual(made.spec.restore?.source, { apiGroup: "dataprotection.kubeblocks.io", kind: "Backup", name: "full", namespace: "demo" });
    assert.equal(made.spec.clusterDef, "postgresql");
    assert.equal(made.metadata.labels?.[OPS_NAME_LABEL], "restore-1");

    await store.updateStatus<Cluster>({ ...made, status: { phase: "Creating", message: "restoring data" } });
    await reconcile("restore-1");
    assert.equal((await ops("restore-1")).status?.progress, "0/1");
    const creating = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg-copy" })) ?? assert.fail("cluster");
    await store.updateStatus<Cluster>({ ...creating, status: { phase: "Running", observedGeneration: creating.metadata.generation ?? 1 } });
    await reconcile("restore-1");
    assert.deepEqual([(await ops("restore-1")).status?.phase, (await ops("restore-1")).status?.progress], ["Succeed", "1/1"]);
    assert.match((await ops("restore-1")).status?.message ?? "", /cluster pg-copy restored from backup full/);
  });

  it("a Restore into a cluster it did not make fails without touching it; one from a backup not Completed fails naming its phase", async () => {
    await store.create(opsRequest("restore-2", { type: "Restore", clusterName: "pg", restore: { backupName: "full" } }));
    await reconcile("restore-2");
    assert.equal((await ops("restore-2")).status?.phase, "Failed");
    assert.match((await ops("restore-2")).status?.message ?? "", /cluster pg already exists and was not created by this OpsRequest/);
    assert.equal((await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" }))?.spec.restore, undefined);

    await setBackupStatus("full", { phase: "Running" });
    await store.create(opsRequest("restore-3", { type: "Restore", clusterName: "pg-other", restore: { backupName: "full" } }));
    await reconcile("restore-3");
    assert.match((await ops("restore-3")).status?.message ?? "", /backup full is Running: only a Completed backup/);
    assert.equal(await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg-other" }), undefined);
  });
});
