import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, fieldNotes, type Cluster } from "../../api/index.ts";
import { EngineCatalog, builtinEngines, type EngineVersion } from "../../engines/index.ts";
import { clusterCauses } from "./cluster-rules.ts";
import { systemAccountReferences } from "./system-account-rules.ts";

const engines = new EngineCatalog(builtinEngines());
const INSTALLED = new Map<string, readonly EngineVersion[]>([["postgresql", [{ version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" }]]]);

function pg(systemAccounts: unknown): Cluster {
  return clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", systemAccounts }] } });
}

function causes(cluster: Cluster, old?: Cluster): { field: string; message: string }[] {
  return clusterCauses({ cluster, old, engines, installed: INSTALLED }).map((c) => ({ field: c.field, message: c.message }));
}

void test("the administrator's password from a Secret of the cluster's namespace, or under a policy, is accepted", () => {
  assert.deepEqual(causes(pg([{ name: "postgres", secretRef: { name: "pg-root", namespace: "demo" } }])), []);
  assert.deepEqual(causes(pg([{ name: "postgres", secretRef: { name: "pg-root", password: "pw" } }])), []);
  assert.deepEqual(causes(pg([{ name: "postgres", passwordConfig: { length: 24, numDigits: 4, numSymbols: 2, letterCase: "MixedCases" } }])), []);
});

void test("an account that is not the engine's administrator is refused, naming the field and the supported names", () => {
  const found = causes(pg([{ name: "kbreplicator", passwordConfig: { length: 20 } }]));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.field, "spec.componentSpecs[0].systemAccounts[0].name");
  assert.match(found[0].message, /supported values: "postgres"/);
});

void test("a Secret in another namespace, both sources at once, a policy without room for letters, a duplicate: each refused", () => {
  assert.deepEqual(
    causes(pg([{ name: "postgres", secretRef: { name: "x", namespace: "other" } }])).map((c) => c.field),
    ["spec.componentSpecs[0].systemAccounts[0].secretRef.namespace"],
  );
  assert.deepEqual(
    causes(pg([{ name: "postgres", secretRef: { name: "x" }, passwordConfig: { length: 20 } }])).map((c) => c.field),
    ["spec.componentSpecs[0].systemAccounts[0].passwordConfig"],
  );
  assert.match(causes(pg([{ name: "postgres", passwordConfig: { length: 12, numDigits: 8, numSymbols: 4 } }]))[0]?.message ?? "", /must be less than length/);
  assert.deepEqual(
    causes(pg([{ name: "postgres" }, { name: "postgres" }])).map((c) => c.field),
    ["spec.componentSpecs[0].systemAccounts[1].name"],
  );
});

void test("a seed and a disabled administrator are refused fields; a short length and unknown fields fail the schema", () => {
  const notes = fieldNotes(clusterSchema, pg([{ name: "postgres", disabled: true, passwordConfig: { length: 16, seed: "abc" } }]));
  assert.deepEqual(notes.map((n) => [n.field, n.support]), [
    ["spec.componentSpecs[0].systemAccounts[0].disabled", "refused"],
    ["spec.componentSpecs[0].systemAccounts[0].passwordConfig.seed", "refused"],
  ]);
  assert.deepEqual(fieldNotes(clusterSchema, pg([{ name: "postgres", disabled: false }])), []);
  for (const bad of [{ name: "postgres", passwordConfig: { length: 8 } }, { name: "postgres", passwordConfig: { lenght: 20 } }, { name: "postgres", secretRef: { name: "x", key: "pw" } }]) {
    assert.throws(() => pg([bad]), Error, JSON.stringify(bad));
  }
});

void test("systemAccounts cannot change once the cluster exists; rotate-password is the way", () => {
  const old = pg([{ name: "postgres", passwordConfig: { length: 20 } }]);
  assert.deepEqual(causes(pg([{ name: "postgres", passwordConfig: { length: 20 } }]), old), []);
  const changed = causes(pg([{ name: "postgres", secretRef: { name: "x" } }]), old);
  assert.equal(changed[0]?.field, "spec.componentSpecs[0].systemAccounts");
  assert.match(changed[0].message, /rotate-password pg/);
});

void test("a secretRef is a reference to read as the requester: get on that Secret is needed", () => {
  const refs = systemAccountReferences(pg([{ name: "postgres", secretRef: { name: "pg-root", password: "pw" } }]));
  assert.deepEqual(refs.map((r) => [r.kind, r.namespace, r.name, r.cause.field]), [["Secret", "demo", "pg-root", "spec.componentSpecs[0].systemAccounts[0].secretRef.name"]]);
  assert.match(refs[0]?.cause.message ?? "", /under the key "pw"/);
});

void test("only the administrator: MariaDB's backup account is Holdfast's own", () => {
  const mariadb = clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "m", namespace: "demo" }, spec: { clusterDef: "mariadb", componentSpecs: [{ name: "mariadb", systemAccounts: [{ name: "kbdataprotection", passwordConfig: { length: 20 } }] }] } });
  const installed = new Map<string, readonly EngineVersion[]>([["mariadb", [{ version: "10.11.18", major: "10.11", binDir: "/usr/sbin" }]]]);
  const found = clusterCauses({ cluster: mariadb, engines, installed }).map((c) => c.message);
  assert.equal(found.length, 1, found.join("; "));
  assert.match(found[0] ?? "", /supported values: "root"/);
});
