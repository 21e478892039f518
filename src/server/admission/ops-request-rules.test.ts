import { test } from "node:test";
import assert from "node:assert/strict";
import { CANCELLABLE_OPS_TYPES, clusterSchema, opsRequestSchema, opsTypeSchema, SUPPORTED_OPS_TYPES, type OpsRequest, type OpsType } from "../../api/index.ts";
import { opsRequestCauses } from "./ops-request-rules.ts";

const CLUSTER = clusterSchema.parse({
  apiVersion: "apps.kubeblocks.io/v1",
  kind: "Cluster",
  metadata: { name: "pg", namespace: "demo" },
  spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }] },
});

function ops(spec: Record<string, unknown>): OpsRequest {
  return opsRequestSchema.parse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "op", namespace: "demo" }, spec: { clusterName: "pg", ...spec } });
}

void test("a restart of an existing component is accepted", () => {
  assert.deepEqual(opsRequestCauses(ops({ type: "Restart", restart: [{ componentName: "postgresql" }] }), CLUSTER), []);
  assert.deepEqual(opsRequestCauses(ops({ type: "Stop" }), CLUSTER), []);
});

void test("a missing cluster is named with its namespace", () => {
  const [cause] = opsRequestCauses(ops({ type: "Stop" }), undefined);
  assert.equal(cause?.field, "spec.clusterName");
  assert.match(cause.message, /no cluster pg in namespace demo/);
});

void test("every KubeBlocks type is supported; a type outside the list is refused listing the supported ones", () => {
  assert.deepEqual(opsTypeSchema.options.filter((type) => !SUPPORTED_OPS_TYPES.includes(type)), []);
  const stop = ops({ type: "Stop" });
  // A type no schema admits (a stored object from a newer build, say): the rule still names the field.
  const [cause] = opsRequestCauses({ ...stop, spec: { ...stop.spec, type: "Frobnicate" as OpsType } }, CLUSTER);
  assert.equal(cause?.field, "spec.type");
  assert.ok(cause.message.endsWith(`supported types: ${SUPPORTED_OPS_TYPES.join(", ")}`), cause.message);
});

void test("an Expose lists components of the cluster", () => {
  const services = [{ name: "internet", roleSelector: "primary" as const }];
  assert.deepEqual(opsRequestCauses(ops({ type: "Expose", expose: [{ componentName: "postgresql", switch: "Enable", services }] }), CLUSTER), []);
  assert.deepEqual(opsRequestCauses(ops({ type: "Expose" }), CLUSTER).map((c) => c.field), ["spec.expose"]);
  const [unknown] = opsRequestCauses(ops({ type: "Expose", expose: [{ componentName: "redis", switch: "Disable", services }] }), CLUSTER);
  assert.equal(unknown?.field, "spec.expose[0].componentName");
  assert.match(unknown.message, /has components: postgresql/);
});

void test("a VolumeExpansion that shrinks the data volume is refused naming the field", () => {
  const sized = clusterSchema.parse({ ...CLUSTER, spec: { ...CLUSTER.spec, componentSpecs: [{ name: "postgresql", volumeClaimTemplates: [{ name: "data", spec: { resources: { requests: { storage: "20Gi" } } } }] }] } });
  const grow = ops({ type: "VolumeExpansion", volumeExpansion: [{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "30Gi" }] }] });
  assert.deepEqual(opsRequestCauses(grow, sized), []);
  const [cause] = opsRequestCauses(ops({ type: "VolumeExpansion", volumeExpansion: [{ componentName: "postgresql", volumeClaimTemplates: [{ name: "data", storage: "10Gi" }] }] }), sized);
  assert.equal(cause?.field, "spec.volumeExpansion[0].volumeClaimTemplates[0].storage");
  assert.match(cause.message, /10Gi is smaller than the current 20Gi/);
});

void test("a switchover names a component and instances of it", () => {
  assert.deepEqual(opsRequestCauses(ops({ type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: "pg-postgresql-0" }] }), CLUSTER), []);
  const candidate = { componentName: "postgresql", instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-1" };
  assert.deepEqual(opsRequestCauses(ops({ type: "Switchover", switchover: [candidate] }), CLUSTER), []);
  assert.deepEqual(opsRequestCauses(ops({ type: "Switchover" }), CLUSTER).map((c) => c.field), ["spec.switchover"]);
  const wrong = opsRequestCauses(ops({ type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: "other-postgresql-0", candidateName: "pg-postgresql-x" }] }), CLUSTER);
  assert.deepEqual(wrong.map((c) => c.field), ["spec.switchover[0].instanceName", "spec.switchover[0].candidateName"]);
  assert.match(wrong[0]?.message ?? "", /such as pg-postgresql-0/);
  assert.deepEqual(opsRequestCauses(ops({ type: "Switchover", switchover: [{ componentName: "redis", instanceName: "pg-redis-0" }] }), CLUSTER).map((c) => c.field), ["spec.switchover[0].componentName"]);
});

void test("a restart must name components of the cluster", () => {
  const found = opsRequestCauses(ops({ type: "Restart", restart: [{ componentName: "postgresql" }, { componentName: "redis" }] }), CLUSTER);
  assert.deepEqual(found.map((c) => c.field), ["spec.restart[1].componentName"]);
  assert.match(found[0]?.message ?? "", /cluster pg has components: postgresql/);
  assert.deepEqual(opsRequestCauses(ops({ type: "Restart" }), CLUSTER).map((c) => c.field), ["spec.restart"]);
});

void test("after creation only spec.cancel may change", () => {
  const old = ops({ type: "Restart" });
  assert.deepEqual(opsRequestCauses(ops({ type: "Restart", cancel: true }), undefined, old), []);
  assert.deepEqual(opsRequestCauses(ops({ type: "Start" }), undefined, old).map((c) => c.field), ["spec"]);
});

void test("cancel is refused for the types that cannot be cancelled, naming those that can", () => {
  const found = opsRequestCauses(ops({ type: "Stop", cancel: true }), undefined, ops({ type: "Stop" }));
  assert.deepEqual(found.map((c) => c.field), ["spec.cancel"]);
  assert.ok(found[0]?.message.includes(`cancellable: ${CANCELLABLE_OPS_TYPES.join(", ")}`), found[0]?.message);
});
