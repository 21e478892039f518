/** The Restore controller against a real store (ADR 0051); the new cluster's status is written here as its controller would. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLUSTER_SNAPSHOT_ANNOTATION, RESTORE_LABEL, RESTORE_TO_CLUSTER_ANNOTATION, type Backup, type Cluster, type Restore } from "../../api/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { RestoreReconciler } from "./reconciler.ts";

const SPEC: Cluster["spec"] = { terminationPolicy: "Delete", clusterDef: "redis", topology: "standalone", componentSpecs: [{ name: "redis", replicas: 1 }] };

describe("Restore controller", () => {
  let dir: string;
  let store: Store;
  const events: { reason: string; message: string }[] = [];
  const recorder: EventRecorder = { record: (_o, _t, reason, message) => Promise.resolve(void events.push({ reason, message })) };
  const reconcile = (name: string): Promise<unknown> => new RestoreReconciler({ store, events: recorder }).reconcile(`demo/${name}`);
  const restore = async (name: string): Promise<Restore> => (await store.get<Restore>({ kind: "Restore", namespace: "demo", name })) ?? assert.fail(name);
  const cluster = (name: string): Promise<Cluster | undefined> => store.get<Cluster>({ kind: "Cluster", namespace: "demo", name });

  function restoreObject(name: string, target: string | undefined, backup = "nightly"): Restore {
    return { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Restore", metadata: { name, namespace: "demo", ...(target === undefined ? {} : { annotations: { [RESTORE_TO_CLUSTER_ANNOTATION]: target } }) }, spec: { backup: { name: backup } } };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-restore-controller-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    const made = await store.create<Backup>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "nightly", namespace: "demo", annotations: { [CLUSTER_SNAPSHOT_ANNOTATION]: JSON.stringify(SPEC) } }, spec: { backupPolicyName: "p", backupMethod: "datafile", deletionPolicy: "Delete" } });
    await store.updateStatus<Backup>({ ...made, status: { phase: "Completed" } });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the cluster the annotation names, Running; Completed with a duration once that cluster is Running", async () => {
    await store.create(restoreObject("r1", "redis-copy"));
    await reconcile("r1");
    const running = await restore("r1");
    assert.equal(running.status?.phase, "Running");
    assert.deepEqual(running.status.actions?.prepareData?.map((a) => [a.objectKey, a.status]), [["Cluster/redis-copy", "Processing"]]);
    assert.equal(running.status.conditions?.find((c) => c.type === "ValidationPassed")?.status, "True");
    const made = (await cluster("redis-copy")) ?? assert.fail("cluster created");
    assert.deepEqual([made.spec.clusterDef, made.spec.restore?.source.name, made.metadata.labels?.[RESTORE_LABEL]], ["redis", "nightly", "r1"]);
    assert.ok(events.some((e) => e.reason === "ClusterCreated"));

    await reconcile("r1");
    assert.equal((await restore("r1")).status?.phase, "Running", "still restoring");
    await store.updateStatus<Cluster>({ ...made, status: { phase: "Running" } });
    await reconcile("r1");
    const done = (await restore("r1")).status;
    assert.equal(done?.phase, "Completed");
    assert.match(done.duration ?? "", /^[\d.hm]+s$/);
    assert.equal(done.actions?.prepareData?.[0]?.status, "Completed");
    assert.equal(done.conditions?.find((c) => c.type === "PrepareData")?.reason, "RestoreCompleted");
  });

  it("fails with the reason: no annotation, a cluster it did not make, a failed cluster", async () => {
    await store.create(restoreObject("r2", undefined));
    await reconcile("r2");
    assert.equal((await restore("r2")).status?.phase, "Failed");
    assert.match((await restore("r2")).status?.conditions?.[0]?.message ?? "", /annotation holdfast\.io\/restore-to-cluster must name/);

    await store.create(restoreObject("r3", "redis-copy"));
    await reconcile("r3");
    assert.equal((await restore("r3")).status?.phase, "Failed");
    assert.match((await restore("r3")).status?.conditions?.[0]?.message ?? "", /cluster redis-copy already exists/);

    await store.create(restoreObject("r4", "redis-broken"));
    await reconcile("r4");
    const made = (await cluster("redis-broken")) ?? assert.fail("cluster created");
    await store.updateStatus<Cluster>({ ...made, status: { phase: "Failed", message: "backup manifest does not match" } });
    await reconcile("r4");
    const failed = (await restore("r4")).status;
    assert.equal(failed?.phase, "Failed");
    assert.equal(failed.actions?.prepareData?.[0]?.message, "backup manifest does not match");
  });
});
