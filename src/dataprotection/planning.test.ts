import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, type Backup, type Instance } from "../api/index.ts";
import { createPostgresqlEngine, createRedisEngine } from "../engines/index.ts";
import { backupIdOf } from "./backup-id.ts";
import { desiredBackupPolicy } from "./backup-policy-plan.ts";
import { restoreIncompatibility } from "./restorer.ts";
import { selectorMatches, selectTargetInstance } from "./target.ts";

function instance(ordinal: number, role: string, ready = true): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", labels: { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" } },
    spec: { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, role, parameters: {}, deleteData: true },
    status: { ready, role },
  };
}

const CLUSTER = clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo", uid: "u-1" }, spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }] } });
const SELECTOR = { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" };

describe("the BackupPolicy of a component", () => {
  const policy = desiredBackupPolicy(CLUSTER, { name: "postgresql", methods: createPostgresqlEngine().backupMethods }, "pg-postgresql-account-postgres", SELECTOR);

  it("is named and owned as KubeBlocks does, with the engine's methods", () => {
    assert.equal(policy.metadata.name, "pg-postgresql-backup-policy");
    assert.equal(policy.metadata.ownerReferences?.[0]?.uid, "u-1");
    assert.deepEqual(policy.spec.backupMethods.map((m) => m.name), ["pg-basebackup", "archive-wal", "pgdump"]);
    assert.equal(policy.spec.target?.connectionCredential?.secretName, "pg-postgresql-account-postgres");
  });

  it("selects a ready secondary, falling back to the primary", () => {
    const selector = policy.spec.target?.podSelector;
    assert.ok(selector);
    assert.equal(selectTargetInstance(selector, [instance(0, "primary"), instance(1, "secondary")])?.metadata.name, "pg-postgresql-1");
    assert.equal(selectTargetInstance(selector, [instance(0, "primary"), instance(1, "secondary", false)])?.metadata.name, "pg-postgresql-0");
    assert.equal(selectTargetInstance(selector, [instance(0, "primary", false)]), undefined);
  });
});

describe("label selectors", () => {
  it("match labels and expressions as Kubernetes does", () => {
    const labels = { app: "db", tier: "data" };
    assert.equal(selectorMatches({ matchLabels: { app: "db" } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: "web" } }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["data", "cache"] }] }, labels), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["data"] }] }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels), false);
  });
});

describe("restore compatibility", () => {
  const backup = (engine: string, version: string, method = "pg-basebackup"): Backup => ({
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: "b", namespace: "demo", uid: "abc" },
    spec: { backupPolicyName: "p", backupMethod: method, deletionPolicy: "Delete" },
    status: { phase: "Completed", source: { cluster: "pg", component: "postgresql", instance: "pg-postgresql-0", engine, version } },
  });
  const pg = createPostgresqlEngine();
  const v15 = { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" };

  it("needs the same engine and major version, and a method the engine has", () => {
    assert.equal(restoreIncompatibility(backup("postgresql", "15.2"), pg, v15), undefined);
    assert.match(restoreIncompatibility(backup("postgresql", "14.7"), pg, v15) ?? "", /taken from postgresql 14\.7 .* use serviceVersion 14/);
    assert.match(restoreIncompatibility(backup("redis", "7.0.15", "datafile"), pg, v15) ?? "", /redis backup and cannot be restored into postgresql/);
    assert.match(restoreIncompatibility(backup("postgresql", "15.2", "volume-snapshot"), pg, v15) ?? "", /no backup method volume-snapshot/);
    assert.equal(restoreIncompatibility(backup("redis", "7.0.15", "datafile"), createRedisEngine(), { version: "7.0.15", major: "7", binDir: "/usr/bin" }), undefined);
  });

  it("backup ids are unique per object and carry no characters a key refuses", () => {
    assert.equal(backupIdOf(backup("postgresql", "15")), "demo_b_abc");
    assert.throws(() => backupIdOf({ metadata: { name: "b" } }), /no uid/);
  });
});
