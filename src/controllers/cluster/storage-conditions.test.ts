import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance, StorageLevel } from "../../api/index.ts";
import { storageConditions, withStorageConditions } from "./storage-conditions.ts";

const MI = 2 ** 20;

function instance(name: string, usedMi: number, level: StorageLevel | undefined): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 1, running: true, parameters: {}, deleteData: true, storageQuota: 100 * MI },
    ...(level === undefined ? {} : { status: { storage: { usedBytes: usedMi * MI, quotaBytes: 100 * MI, freeBytes: 0, level, measuredAt: "2026-12-06T18:00:00Z" } } }),
  };
}

describe("storage conditions", () => {
  it("are False while every instance is below 90% or unmeasured", () => {
    const [nearly, full] = storageConditions([instance("pg-postgresql-0", 50, "Ok"), instance("pg-postgresql-1", 0, undefined)], 3);
    assert.equal(nearly?.status, "False");
    assert.equal(full?.status, "False");
    assert.equal(full.observedGeneration, 3);
  });

  it("name the instances nearly full, and the full ones", () => {
    const [nearly, full] = storageConditions([instance("pg-postgresql-0", 95, "NearlyFull"), instance("pg-postgresql-1", 101, "Full")], 1);
    assert.equal(nearly?.status, "True");
    assert.match(nearly.message, /pg-postgresql-0: 95Mi of 100Mi \(95%\); pg-postgresql-1: 101Mi of 100Mi \(101%\)/);
    assert.equal(full?.status, "True");
    assert.equal(full.reason, "QuotaReached");
    assert.match(full.message, /writes refused: pg-postgresql-1: 101Mi of 100Mi \(101%\); expand it/);
    assert.doesNotMatch(full.message, /pg-postgresql-0/);
  });

  it("are set among the other conditions, keeping them", () => {
    const conditions = withStorageConditions([{ type: "Ready", status: "True", reason: "ClusterReady", message: "", lastTransitionTime: "t" }], [], 1);
    assert.deepEqual(conditions.map((c) => c.type), ["Ready", "StorageNearlyFull", "StorageFull"]);
  });
});
