import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema } from "../../api/index.ts";
import { fieldPath, issuesToCauses } from "./zod-causes.ts";

function causesOf(value: unknown) {
  const result = clusterSchema.safeParse(value, { reportInput: true });
  if (result.success) assert.fail("the fixture must be invalid");
  return issuesToCauses(result.error.issues, clusterSchema);
}

function onlyCause(value: unknown) {
  const causes = causesOf(value);
  assert.equal(causes.length, 1, JSON.stringify(causes));
  return causes[0]!;
}

function cluster(component: Record<string, unknown>, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo" },
    spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", ...component }], ...spec },
  };
}

void test("fieldPath writes dotted paths with indexes", () => {
  assert.equal(fieldPath(["spec", "componentSpecs", 0, "replicas"]), "spec.componentSpecs[0].replicas");
  assert.equal(fieldPath(["data", "tls.crt"]), 'data["tls.crt"]');
  assert.equal(fieldPath(["metadata", "labels", "app"]), "metadata.labels.app");
  assert.equal(fieldPath([]), "<root>");
});

void test("a negative replica count names the field, the value and the rule", () => {
  assert.deepEqual(causesOf(cluster({ replicas: -1 })), [
    { field: "spec.componentSpecs[0].replicas", reason: "FieldValueInvalid", message: "Invalid value: -1: replicas must be 0 or more" },
  ]);
});

void test("a string where an integer belongs says integer, not number", () => {
  assert.deepEqual(causesOf(cluster({ replicas: "3" })), [
    { field: "spec.componentSpecs[0].replicas", reason: "FieldValueTypeInvalid", message: "expected integer, got string" },
  ]);
});

void test("a fractional replica count is a type error too", () => {
  const cause = onlyCause(cluster({ replicas: 1.5 }));
  assert.equal(cause.message, "expected integer, got number");
});

void test("a missing field is a Required value", () => {
  const value = cluster({});
  delete (value.spec as Record<string, unknown>)["componentSpecs"];
  assert.deepEqual(causesOf(value), [{ field: "spec.componentSpecs", reason: "FieldValueRequired", message: "Required value" }]);
});

void test("an unknown enum value lists the supported ones", () => {
  const cause = onlyCause(cluster({}, { terminationPolicy: "Halt" }));
  assert.equal(cause.field, "spec.terminationPolicy");
  assert.equal(cause.reason, "FieldValueNotSupported");
  assert.equal(cause.message, 'Unsupported value: "Halt": supported values: "DoNotTerminate", "Delete", "WipeOut"');
});

void test("a bad quantity gives the quantity rule, not a union failure", () => {
  const cause = onlyCause(cluster({ resources: { limits: { memory: "lots" } } }));
  assert.equal(cause.field, "spec.componentSpecs[0].resources.limits.memory");
  assert.match(cause.message, /^Invalid value: "lots": must be a quantity/);
});

void test("a bad name quotes the DNS rule", () => {
  const value = cluster({});
  value.metadata.name = "Bad_Name";
  const cause = onlyCause(value);
  assert.equal(cause.field, "metadata.name");
  assert.match(cause.message, /^Invalid value: "Bad_Name": must be a DNS-1123 subdomain/);
});
