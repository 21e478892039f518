/**
 * The OpsRequest controller against a real store: an operation that cannot progress fails after its timeout
 * (the default when it sets none) with what it was waiting for, and the next operation on the cluster then runs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, OpsRequest } from "../../api/index.ts";
import { createPostgresqlEngine, createRedisEngine } from "../../engines/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { DEFAULT_OPS_TIMEOUT_SECONDS, OpsRequestReconciler } from "./reconciler.ts";

const engineList = [createPostgresqlEngine(), createRedisEngine()];
const engines = { list: () => engineList, find: (name: string) => engineList.find((e) => e.name === name), versions: () => Promise.resolve([]) };

function opsRequest(name: string, type: OpsRequest["spec"]["type"], extra: Partial<OpsRequest["spec"]> = {}): OpsRequest {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: "demo" }, spec: { clusterName: "pg", type, ...extra } };
}

describe("OpsRequest controller: timeouts", () => {
  let dir: string;
  let store: Store;
  const events: { reason: string; message: string }[] = [];
  const recorder: EventRecorder = { record: (_object, _type, reason, message) => Promise.resolve(void events.push({ reason, message })) };
  const controller = (): OpsRequestReconciler => new OpsRequestReconciler({ store, events: recorder, engines });
  const get = async (name: string): Promise<OpsRequest | undefined> => store.get<OpsRequest>({ kind: "OpsRequest", namespace: "demo", name });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-ops-controller-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create<Cluster>({
      apiVersion: "apps.kubeblocks.io/v1",
      kind: "Cluster",
      metadata: { name: "pg", namespace: "demo" },
      spec: { terminationPolicy: "Delete", clusterDef: "postgresql", topology: "standalone", componentSpecs: [{ name: "postgresql", replicas: 1 }] },
    });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** An operation that started `secondsAgo` and whose cluster never gets there (it has no instances). */
  async function stuck(name: string, secondsAgo: number, extra: Partial<OpsRequest["spec"]> = {}): Promise<void> {
    const created = await store.create(opsRequest(name, "Start", extra));
    const startTimestamp = new Date(Date.now() - secondsAgo * 1000).toISOString();
    await store.updateStatus<OpsRequest>({ ...created, status: { phase: "Running", startTimestamp, clusterGeneration: 1, progress: "0/0" } });
  }

  it("one that sets no timeoutSeconds fails after the default, saying so, and the next one on the cluster starts", async () => {
    await stuck("start-stuck", DEFAULT_OPS_TIMEOUT_SECONDS - 60);
    await store.create(opsRequest("restart-after", "Restart"));
    await controller().reconcile("demo/start-stuck");
    assert.equal((await get("start-stuck"))?.status?.phase, "Running", "still within the default");
    await controller().reconcile("demo/restart-after");
    assert.match((await get("restart-after"))?.status?.message ?? "", /waiting for OpsRequest start-stuck/);

    const running = (await get("start-stuck")) ?? assert.fail("stored");
    await store.updateStatus<OpsRequest>({ ...running, status: { ...running.status, startTimestamp: new Date(Date.now() - (DEFAULT_OPS_TIMEOUT_SECONDS + 1) * 1000).toISOString() } });
    await controller().reconcile("demo/start-stuck");
    const failed = (await get("start-stuck"))?.status ?? assert.fail("stored");
    assert.equal(failed.phase, "Failed");
    assert.match(failed.message ?? "", /Start did not finish within 1800s \(the default; set spec\.timeoutSeconds to allow longer\)/);
    assert.ok(events.some((e) => e.reason === "OpsRequestFailed"));

    await controller().reconcile("demo/restart-after");
    assert.equal((await get("restart-after"))?.status?.phase, "Running", "the queue moves on");
  });

  it("one with timeoutSeconds fails after it, naming what it waited for", async () => {
    await stuck("start-short", 5, { timeoutSeconds: 2 });
    await controller().reconcile("demo/start-short");
    const failed = (await get("start-short"))?.status ?? assert.fail("stored");
    assert.equal(failed.phase, "Failed");
    assert.match(failed.message ?? "", /^Start did not finish within 2s: 0\/0 done/);
  });
});
