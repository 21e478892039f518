import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.ts";
import type { OpsRequest } from "./ops-request.ts";
import { bytesAsQuantity, quotaMisfit, storageLevel, storageQuotaOf, volumeExpansionProblems } from "./storage-quota.ts";

const MI = 2 ** 20;

function cluster(storage: string | undefined): Cluster {
  const templates = storage === undefined ? [] : [{ name: "data", spec: { resources: { requests: { storage } } } }];
  return { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 1, volumeClaimTemplates: templates }] } };
}

function expansion(entries: NonNullable<OpsRequest["spec"]["volumeExpansion"]>): OpsRequest {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "x", namespace: "demo" }, spec: { clusterName: "pg", type: "VolumeExpansion", volumeExpansion: entries } };
}

describe("storage levels", () => {
  it("is Ok below 90%, NearlyFull from 90%, Full from 100% of the quota, and Ok without a quota", () => {
    assert.equal(storageLevel(89 * MI, 100 * MI), "Ok");
    assert.equal(storageLevel(90 * MI, 100 * MI), "NearlyFull");
    assert.equal(storageLevel(100 * MI - 1, 100 * MI), "NearlyFull");
    assert.equal(storageLevel(100 * MI, 100 * MI), "Full");
    assert.equal(storageLevel(500 * MI, 100 * MI), "Full");
    assert.equal(storageLevel(500 * MI, undefined), "Ok");
  });

  it("reads the quota from the data volumeClaimTemplate only", () => {
    assert.equal(storageQuotaOf({ volumeClaimTemplates: [{ name: "data", spec: { resources: { requests: { storage: "20Gi" } } } }] }), 20 * 2 ** 30);
    assert.equal(storageQuotaOf({ volumeClaimTemplates: [{ name: "logs", spec: { resources: { requests: { storage: "20Gi" } } } }] }), undefined);
    assert.equal(storageQuotaOf({}), undefined);
  });

  it("a quota fits when what the instance may still grow by is free", () => {
    assert.equal(quotaMisfit(100 * MI, 40 * MI, 60 * MI), undefined);
    assert.match(quotaMisfit(100 * MI, 40 * MI, 59 * MI) ?? "", /quota of 100Mi does not fit the host's free disk: 40Mi used, it may grow by 60Mi but only 59Mi is free/);
  });

  it("formats bytes in binary units", () => {
    assert.equal(bytesAsQuantity(512), "512 bytes");
    assert.equal(bytesAsQuantity(1536 * MI), "1.5Gi");
  });
});

describe("VolumeExpansion rules", () => {
  it("accepts a growth of the data volume", () => {
    assert.deepEqual(volumeExpansionProblems(expansion([{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "30Gi" }] }]), cluster("20Gi")), []);
  });

  it("refuses a shrink, naming the field", () => {
    const [problem, ...rest] = volumeExpansionProblems(expansion([{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "10Gi" }] }]), cluster("20Gi"));
    assert.equal(rest.length, 0);
    assert.equal(problem?.field, "spec.volumeExpansion[0].volumeClaimTemplates[0].storage");
    assert.match(problem.message, /10Gi is smaller than the current 20Gi: volumes can only grow/);
  });

  it("refuses an unknown component, another volume, a component without a data volume and an empty list", () => {
    assert.equal(volumeExpansionProblems(expansion([{ componentName: "nope", volumeClaimTemplates: [{ name: "data", storage: "30Gi" }] }]), cluster("20Gi"))[0]?.field, "spec.volumeExpansion[0].componentName");
    assert.equal(volumeExpansionProblems(expansion([{ componentName: "postgresql", volumeClaimTemplates: [{ name: "logs", storage: "30Gi" }] }]), cluster("20Gi"))[0]?.field, "spec.volumeExpansion[0].volumeClaimTemplates[0].name");
    assert.match(volumeExpansionProblems(expansion([{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "30Gi" }] }]), cluster(undefined))[0]?.message ?? "", /has no data volumeClaimTemplate/);
    assert.equal(volumeExpansionProblems(expansion([]), cluster("20Gi"))[0]?.field, "spec.volumeExpansion");
  });
});
