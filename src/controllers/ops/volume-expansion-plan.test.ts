import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, InstanceStorageStatus, OpsRequest } from "../../api/index.ts";
import { freeDiskProblem, volumeExpansionProgress, withDataStorage } from "./volume-expansion-plan.ts";

const GI = 2 ** 30;

function cluster(generation = 2, observed = 2): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", generation },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2, volumeClaimTemplates: [{ name: "data", spec: { storageClassName: "", resources: { requests: { storage: "20Gi" } } } }, { name: "logs" }] }] },
    status: { observedGeneration: observed },
  };
}

const ops: OpsRequest = {
  apiVersion: "operations.kubeblocks.io/v1alpha1",
  kind: "OpsRequest",
  metadata: { name: "x", namespace: "demo" },
  spec: { clusterName: "pg", type: "VolumeExpansion", volumeExpansion: [{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "30Gi" }] }] },
  status: { clusterGeneration: 2 },
};

function instance(ordinal: number, quota: number | undefined, storage?: Partial<InstanceStorageStatus>, nodeName = "n1"): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal, port: 1, running: true, parameters: {}, deleteData: true, nodeName, ...(quota === undefined ? {} : { storageQuota: quota }) },
    ...(storage === undefined ? {} : { status: { storage: { usedBytes: 0, freeBytes: 100 * GI, level: "Ok", measuredAt: "2026-12-06T18:00:00Z", ...storage } } }),
  };
}

describe("VolumeExpansion plan", () => {
  it("sets the data volume's storage and keeps the rest of the template and the other volumes", () => {
    const expanded = withDataStorage(cluster(), new Map([["postgresql", "30Gi"]]));
    const templates = expanded.spec.componentSpecs[0]?.volumeClaimTemplates;
    assert.deepEqual(templates, [{ name: "data", spec: { storageClassName: "", resources: { requests: { storage: "30Gi" } } } }, { name: "logs" }]);
  });

  it("refuses sizes that the free disk of a node cannot hold, counting every instance on the node", () => {
    const fits = [instance(0, 20 * GI, { usedBytes: GI, freeBytes: 60 * GI }), instance(1, 20 * GI, { usedBytes: GI, freeBytes: 60 * GI })];
    assert.equal(freeDiskProblem(ops, fits), undefined);
    const tight = [instance(0, 20 * GI, { usedBytes: GI, freeBytes: 50 * GI }), instance(1, 20 * GI, { usedBytes: GI, freeBytes: 50 * GI })];
    assert.match(freeDiskProblem(ops, tight) ?? "", /does not fit the host's free disk.*pg-postgresql-0, pg-postgresql-1 on node n1/);
    const spread = [instance(0, 20 * GI, { usedBytes: GI, freeBytes: 50 * GI }, "n1"), instance(1, 20 * GI, { usedBytes: GI, freeBytes: 50 * GI }, "n2")];
    assert.equal(freeDiskProblem(ops, spread), undefined);
  });

  it("is done once every instance's node agent measures against the new quota", () => {
    const waiting = volumeExpansionProgress(ops, cluster(), [instance(0, 20 * GI), instance(1, 20 * GI)]);
    assert.equal(waiting.finished, false);
    assert.equal(waiting.details?.[0]?.status, "Pending");
    const half = volumeExpansionProgress(ops, cluster(), [instance(0, 30 * GI, { quotaBytes: 30 * GI }), instance(1, 30 * GI, { quotaBytes: 20 * GI })]);
    assert.deepEqual([half.done, half.total, half.finished], [1, 2, false]);
    assert.equal(half.details?.[1]?.status, "Processing");
    const done = volumeExpansionProgress(ops, cluster(), [instance(0, 30 * GI, { quotaBytes: 30 * GI }), instance(1, 30 * GI, { quotaBytes: 30 * GI })]);
    assert.deepEqual([done.done, done.total, done.finished], [2, 2, true]);
    assert.equal(volumeExpansionProgress({ ...ops, status: { clusterGeneration: 3 } }, cluster(3, 2), [instance(0, 30 * GI, { quotaBytes: 30 * GI })]).finished, false, "not before the cluster controller saw the change");
  });
});
