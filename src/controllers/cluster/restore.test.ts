import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema } from "../../api/index.ts";
import { restoreFields } from "./restore.ts";

const cluster = (extra: Record<string, unknown>, annotations?: Record<string, string>) =>
  clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg2", namespace: "demo", ...(annotations ? { annotations } : {}) }, spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", replicas: 3 }], ...extra } });

void test("only the first instance of the restored component restores; the others follow it as replicas", () => {
  const restored = cluster({ restore: { source: { name: "nightly" } } });
  assert.deepEqual(restoreFields(restored, "postgresql", 0), { restore: { backupName: "nightly", backupNamespace: "demo" } });
  assert.deepEqual(restoreFields(restored, "postgresql", 1), {});
  assert.deepEqual(restoreFields(cluster({}), "postgresql", 0), {});
});

void test("a malformed annotation restores nothing instead of failing the plan", () => {
  assert.deepEqual(restoreFields(cluster({}, { "kubeblocks.io/restore-from-backup": "{" }), "postgresql", 0), {});
});
